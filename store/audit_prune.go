package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Tables named in the detail of purge entries other than events' (whose
// entries name no table).
const (
	ledgerTable   = "upload_requests"
	consentsTable = "consents"
)

// LedgerPrune is what PruneLedger did.
type LedgerPrune struct {
	Requests        int64 // rows whose body and response were pruned
	FirstID, LastID int64
}

// PruneLedger empties the body and response of every upload request sent
// before cutoff and marks the row pruned_at, with a purge entry in the same
// transaction (table, cutoff, row count and id range, pruned_at). The
// hashes recorded when each was sent and answered stay in the audit log, so
// `tally audit verify` skips only the byte comparison for pruned rows.
func (db *DB) PruneLedger(ctx context.Context, cutoff time.Time) (LedgerPrune, error) {
	var p LedgerPrune
	err := db.inTx(ctx, "store: prune ledger", func(tx *sql.Tx) error {
		before := FormatTime(cutoff)
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM upload_requests
			WHERE sent_at < ? AND pruned_at IS NULL`, before).Scan(&p.Requests, &p.FirstID, &p.LastID); err != nil {
			return fmt.Errorf("store: prune ledger: %w", err)
		}
		if p.Requests == 0 {
			return nil
		}
		// The wall clock, like audit_log.at: when the bytes were really removed.
		prunedAt := FormatTime(time.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE upload_requests SET body = '', response = NULL, pruned_at = ?
			WHERE sent_at < ? AND pruned_at IS NULL`, prunedAt, before); err != nil {
			return fmt.Errorf("store: prune ledger: %w", err)
		}
		if err := db.appendAudit(ctx, tx, AuditPurge, map[string]any{"table": ledgerTable, "before": before,
			"requests": p.Requests, "first_id": p.FirstID, "last_id": p.LastID, "pruned_at": prunedAt}); err != nil {
			return fmt.Errorf("store: prune ledger: %w", err)
		}
		return nil
	})
	return p, err
}

// ConsentPurge is what PurgeConsents did.
type ConsentPurge struct {
	Visitors, Records int64
}

// PurgeConsents deletes the whole consent history of every visitor whose
// latest record was stored before cutoff. consents refuses a DELETE unless
// the visitor is marked in consent_purge_marks, so the purge marks them,
// deletes, writes its purge entry and removes the marks in one transaction.
// A purged visitor has no consent: their later events count only after a
// new grant.
func (db *DB) PurgeConsents(ctx context.Context, cutoff time.Time) (ConsentPurge, error) {
	var p ConsentPurge
	err := db.inTx(ctx, "store: purge consents", func(tx *sql.Tx) error {
		before := FormatTime(cutoff)
		r, err := tx.ExecContext(ctx, `INSERT INTO consent_purge_marks (visitor_key)
			SELECT visitor_key FROM consents GROUP BY visitor_key HAVING max(recorded_at) < ?`, before)
		if err != nil {
			return fmt.Errorf("store: purge consents: mark: %w", err)
		}
		if p.Visitors, _ = r.RowsAffected(); p.Visitors == 0 {
			return nil
		}
		r, err = tx.ExecContext(ctx, `DELETE FROM consents WHERE visitor_key IN (SELECT visitor_key FROM consent_purge_marks)`)
		if err != nil {
			return fmt.Errorf("store: purge consents: delete: %w", err)
		}
		p.Records, _ = r.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM consent_purge_marks`); err != nil {
			return fmt.Errorf("store: purge consents: unmark: %w", err)
		}
		if err := db.appendAudit(ctx, tx, AuditPurge, map[string]any{"table": consentsTable, "before": before,
			"visitors": p.Visitors, "records": p.Records}); err != nil {
			return fmt.Errorf("store: purge consents: %w", err)
		}
		// Inside the transaction, as the single writer connection orders it
		// before the intake writer's next one: that one reloads what it needs.
		db.consents.reset()
		return nil
	})
	if err != nil {
		return ConsentPurge{}, err
	}
	return p, nil
}
