package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ConsentHistory returns every consent record of one visitor, all
// purposes, oldest first (at the same instant a grant before a
// withdrawal, as ConsentAt orders them): the answer to a right-to-know
// request. recorded is when each was stored.
func (db *DB) ConsentHistory(ctx context.Context, visitorKey []byte) (recs []Consent, recorded []string, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT purpose, granted, time, coalesce(source, ''), coalesce(version, ''), recorded_at
		FROM consents WHERE visitor_key = ? ORDER BY time, granted DESC, id`, visitorKey)
	if err != nil {
		return nil, nil, fmt.Errorf("store: consent history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c := Consent{VisitorKey: visitorKey}
		var at, rec string
		if err := rows.Scan(&c.Purpose, &c.Granted, &at, &c.Source, &c.Version, &rec); err != nil {
			return nil, nil, fmt.Errorf("store: consent history: %w", err)
		}
		if c.Time, err = ParseTime(at); err != nil {
			return nil, nil, fmt.Errorf("store: consent history: bad time %q: %w", at, err)
		}
		recs, recorded = append(recs, c), append(recorded, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: consent history: %w", err)
	}
	return recs, recorded, nil
}

// ForgetConsents deletes one visitor's whole consent history (an erasure
// request) by the recorded-purge path of PurgeConsents: the visitor is
// marked in consent_purge_marks, their rows deleted, the mark removed and
// one purge entry written with the count, all in one transaction; every
// other DELETE on consents still fails. The entry names neither the
// visitor nor their key. Afterwards the visitor has no consent: their
// events are no_consent until a new grant.
func (db *DB) ForgetConsents(ctx context.Context, visitorKey []byte) (int64, error) {
	var n int64
	err := db.inTx(ctx, "store: forget consents", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO consent_purge_marks (visitor_key) VALUES (?)`, visitorKey); err != nil {
			return fmt.Errorf("store: forget consents: mark: %w", err)
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM consents WHERE visitor_key = ?`, visitorKey)
		if err != nil {
			return fmt.Errorf("store: forget consents: delete: %w", err)
		}
		n, _ = r.RowsAffected()
		// Only this visitor's mark: a mark someone left outside a purge
		// stays for `tally audit verify` to report.
		if _, err := tx.ExecContext(ctx, `DELETE FROM consent_purge_marks WHERE visitor_key = ?`, visitorKey); err != nil {
			return fmt.Errorf("store: forget consents: unmark: %w", err)
		}
		if err := db.appendAudit(ctx, tx, AuditPurge, map[string]any{"table": consentsTable, "request": "forget",
			"visitors": 1, "records": n}); err != nil {
			return fmt.Errorf("store: forget consents: %w", err)
		}
		// As PurgeConsents: the intake writer's next transaction reloads.
		db.consents.reset()
		return nil
	})
	return n, err
}
