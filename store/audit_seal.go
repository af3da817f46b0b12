package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/tally-health/tally"
)

// dailyCountsCanonical renders one day's daily_counts rows as the text the
// seal's audit entry hashes (daily_counts_sha256): one JSON array of the
// row's columns in table order per row, ordered by cell, each followed by a
// newline. It is exactly what the sqlite3 shell prints for this query, so an
// auditor can pipe it into sha256sum (docs/SCHEMA.md).
const dailyCountsCanonical = `SELECT json_array(day, platform, campaign, conversion, raw_count, carried_in,
	noise, total, released_count, status, carry_age, gate_min_count, gate_small_counts, gate_carry_days,
	gate_noise, gate_epsilon, sealed_at)
FROM daily_counts WHERE day = ? ORDER BY platform, campaign, conversion`

// dailyCountsHash is the SHA-256 of day's daily_counts rows in their
// canonical text, and how many rows there are.
func dailyCountsHash(ctx context.Context, q querier, day tally.Day) (string, int, error) {
	sum, n, err := linesHash(ctx, q, dailyCountsCanonical, day)
	if err != nil {
		return "", 0, fmt.Errorf("hash daily_counts %s: %w", day, err)
	}
	return sum, n, nil
}

// linesHash is the SHA-256 of the text query prints, one row of one
// column per line, each followed by a newline (as the sqlite3 shell
// prints it), and how many lines there are.
func linesHash(ctx context.Context, q querier, query string, args ...any) (string, int, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", 0, err
		}
		h.Write([]byte(line + "\n"))
		n++
	}
	if err := rows.Err(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// sealEntry is the seal's audit entry (sealAudit) plus the hash of the
// daily_counts rows just written in tx, so `tally audit verify` can tell
// when a sealed row is edited, added or deleted later.
func sealEntry(ctx context.Context, tx querier, res SealResult, rows []DailyCount, detail map[string]any, receipt *Receipt) (map[string]any, error) {
	out := sealAudit(res, rows, detail, receipt)
	sum, _, err := dailyCountsHash(ctx, tx, res.Day)
	if err != nil {
		return nil, err
	}
	out["daily_counts_sha256"] = sum
	return out, nil
}
