package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tally-health/tally"
)

// AuditSpendImport is the audit kind of one `tally spend import`.
const AuditSpendImport = "spend_import"

// SpendRow is one row of spend: what a campaign cost on one platform on
// one day.
type SpendRow struct {
	Day      tally.Day
	Platform tally.Platform
	Campaign string
	Spend    tally.Micros
	Currency string // ISO 4217, upper case
}

// SpendImported is what one import wrote: rows new to the table, and rows
// that replaced one of the same day, platform and campaign.
type SpendImported struct {
	Inserted, Replaced int
}

// ImportSpend writes rows in one transaction with one spend_import audit
// entry (inserted, replaced, the days covered, fileSHA256, the imported
// file's hash, and the hash of the whole table after the import, which
// `tally audit verify` checks): all of them or, on any error, none. A row whose
// day, platform and campaign are already stored (or came earlier in rows)
// replaces that row and counts as replaced. at is stored as imported_at.
func (db *DB) ImportSpend(ctx context.Context, rows []SpendRow, fileSHA256 string, at time.Time) (SpendImported, error) {
	var n SpendImported
	err := db.inTx(ctx, "store: spend import", func(tx *sql.Tx) error {
		// Rows new to the table are counted from its size before and
		// after: one statement per row instead of a look-up and a write.
		var before, after int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM spend`).Scan(&before); err != nil {
			return fmt.Errorf("store: spend import: %w", err)
		}
		upsert, err := tx.PrepareContext(ctx, `INSERT INTO spend (day, platform, campaign, spend_micros, currency, imported_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (day, platform, campaign) DO UPDATE SET
				spend_micros = excluded.spend_micros, currency = excluded.currency, imported_at = excluded.imported_at`)
		if err != nil {
			return fmt.Errorf("store: spend import: %w", err)
		}
		defer upsert.Close()
		var first, last tally.Day
		for _, r := range rows {
			if _, err := upsert.ExecContext(ctx, r.Day, r.Platform, r.Campaign, int64(r.Spend), r.Currency, FormatTime(at)); err != nil {
				return fmt.Errorf("store: spend import %s/%s: %w", r.Day, r.Platform, err)
			}
			if first == "" || r.Day < first {
				first = r.Day
			}
			last = max(last, r.Day)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM spend`).Scan(&after); err != nil {
			return fmt.Errorf("store: spend import: %w", err)
		}
		n = SpendImported{Inserted: after - before, Replaced: len(rows) - (after - before)}
		sum, total, err := spendHash(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: spend import: %w", err)
		}
		return db.appendAudit(ctx, tx, AuditSpendImport, map[string]any{"inserted": n.Inserted, "replaced": n.Replaced,
			"first_day": first, "last_day": last, "file_sha256": fileSHA256, "spend_rows": total, "spend_sha256": sum})
	})
	if err != nil {
		return SpendImported{}, err
	}
	return n, nil
}

// Spend returns the spend rows of the days from..to (inclusive) in (day,
// platform, campaign) order.
func (db *DB) Spend(ctx context.Context, from, to tally.Day) ([]SpendRow, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, r *SpendRow) error {
		return rows.Scan(&r.Day, &r.Platform, &r.Campaign, &r.Spend, &r.Currency)
	}, `SELECT day, platform, campaign, spend_micros, currency FROM spend
		WHERE day BETWEEN ? AND ? ORDER BY day, platform, campaign`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: spend %s..%s: %w", from, to, err)
	}
	return out, nil
}
