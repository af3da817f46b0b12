package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/tally-health/tally"
)

// Receipt is one privacy_receipts row: the privacy statement of a sealed
// day (see migrations/0011_privacy.sql). The seal's audit entry carries it
// as detail.privacy, without Day and SealedAt (the entry has both).
type Receipt struct {
	Day            tally.Day   `json:"-"`
	MinCount       int         `json:"min_count"`
	Noise          tally.Noise `json:"noise"`
	Epsilon        string      `json:"epsilon"`
	VisitorBound   int         `json:"visitor_bound"`
	VisitorEpsilon string      `json:"visitor_epsilon"`
	VisitorDelta   string      `json:"visitor_delta"`
	Statement      string      `json:"statement"`
	SealedAt       string      `json:"-"`
}

// SealNote is what a seal records beside its rows, from its input: the
// audit entry's detail (the gate parameters) and the day's receipt (nil:
// none).
type SealNote func(in SealInput) (detail map[string]any, receipt *Receipt)

const receiptCols = `day, min_count, noise, epsilon, visitor_bound, visitor_epsilon, visitor_delta, statement, sealed_at`

func insertReceipt(ctx context.Context, tx *sql.Tx, r Receipt) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO privacy_receipts (`+receiptCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Day, r.MinCount, r.Noise, r.Epsilon, r.VisitorBound, r.VisitorEpsilon, r.VisitorDelta, r.Statement, r.SealedAt)
	if err != nil {
		return fmt.Errorf("insert privacy receipt: %w", err)
	}
	return nil
}

// Receipts returns the privacy receipts of the days from..to (inclusive),
// in day order.
func (db *DB) Receipts(ctx context.Context, from, to tally.Day) ([]Receipt, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, r *Receipt) error {
		return rows.Scan(&r.Day, &r.MinCount, &r.Noise, &r.Epsilon, &r.VisitorBound, &r.VisitorEpsilon,
			&r.VisitorDelta, &r.Statement, &r.SealedAt)
	}, `SELECT `+receiptCols+` FROM privacy_receipts WHERE day BETWEEN ? AND ? ORDER BY day`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: privacy receipts %s..%s: %w", from, to, err)
	}
	return out, nil
}

// checkReceipts compares each privacy_receipts row with the receipt its
// seal's audit entry carries, and finds rows no seal wrote.
func (db *DB) checkReceipts(ctx context.Context, ix auditIndex, c *DataCheck) error {
	rows, err := queryAll(ctx, db.r, func(rows *sql.Rows, r *Receipt) error {
		return rows.Scan(&r.Day, &r.MinCount, &r.Noise, &r.Epsilon, &r.VisitorBound, &r.VisitorEpsilon,
			&r.VisitorDelta, &r.Statement, &r.SealedAt)
	}, `SELECT `+receiptCols+` FROM privacy_receipts ORDER BY day`)
	if err != nil {
		return fmt.Errorf("store: verify privacy_receipts: %w", err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		day := string(r.Day)
		seen[day] = true
		seal, ok := ix.seals[day]
		if !ok || seal.Privacy == nil {
			c.problem("privacy_receipts", day, "a receipt no seal in the audit log recorded")
			continue
		}
		got, _ := json.Marshal(r)
		want, _ := json.Marshal(seal.Privacy)
		if string(got) != string(want) {
			c.problem("privacy_receipts", day, "differs from the receipt its seal recorded: %s", want)
			continue
		}
		c.Receipts++
	}
	for day, seal := range ix.seals {
		if seal.Privacy != nil && !seen[day] {
			c.problem("privacy_receipts", day, "the seal recorded a receipt but the row is gone")
		}
	}
	return nil
}
