package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// spendCanonical renders the whole spend table as the text each
// spend_import entry hashes (spend_sha256): one JSON array of the row's
// columns in table order per row, ordered by key, each followed by a
// newline; what the sqlite3 shell prints for this query (docs/SCHEMA.md).
const spendCanonical = `SELECT json_array(day, platform, campaign, spend_micros, currency, imported_at)
FROM spend ORDER BY day, platform, campaign`

// spendHash is the SHA-256 of the spend table in its canonical text, and
// how many rows it has.
func spendHash(ctx context.Context, q querier) (string, int, error) {
	sum, n, err := linesHash(ctx, q, spendCanonical)
	if err != nil {
		return "", 0, fmt.Errorf("hash spend: %w", err)
	}
	return sum, n, nil
}

// spendEntry is the detail of a spend_import entry as the check reads it.
type spendEntry struct {
	SpendSHA256 string `json:"spend_sha256"`
	SpendRows   int    `json:"spend_rows"`
}

// checkSpend compares the spend table with the hash the last spend_import
// entry recorded of the whole table: a row edited, added or deleted since
// fails, as do rows no import wrote.
func (db *DB) checkSpend(ctx context.Context, _ auditIndex, c *DataCheck) error {
	var last *spendEntry
	err := db.AuditEntries(ctx, "", func(e AuditEntry) error {
		if e.Kind != AuditSpendImport {
			return nil
		}
		last = &spendEntry{}
		if err := json.Unmarshal([]byte(e.Detail), last); err != nil {
			return fmt.Errorf("store: audit row %d: detail: %w", e.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sum, n, err := spendHash(ctx, db.r)
	if err != nil {
		return fmt.Errorf("store: verify: %w", err)
	}
	switch {
	case last == nil && n > 0:
		c.problem("spend", "table", "%d rows, but no spend_import in the audit log wrote any", n)
	case last != nil && sum != last.SpendSHA256:
		c.problem("spend", "table", "the %d rows do not match the hash the last spend_import recorded (%d rows): a row was edited, added or deleted", n, last.SpendRows)
	case last != nil:
		c.SpendRows = n
	}
	return nil
}
