package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Audit entry kinds.
const (
	AuditIntake        = "intake"
	AuditConsentImport = "consent_import"
	AuditRollup        = "rollup"
	AuditUploadRequest = "upload_request"
	AuditUploadAnswer  = "upload_answer"
	AuditPurge         = "purge"
	AuditRunConfig     = "run_config"
	AuditScan          = "scan"
)

// genesisHash is the prev_hash of the first row.
var genesisHash = hex.EncodeToString(make([]byte, sha256.Size))

// AuditEntry is one row of audit_log.
type AuditEntry struct {
	ID int64
	// At is the wall-clock time of the write.
	At string
	// AsOf is the --now instant the command ran as of; NULL when not given.
	AsOf     sql.NullString
	Kind     string
	Detail   string
	PrevHash string
	Hash     string
}

// auditHash is the row hash: SHA-256 over prev_hash, id, at, as_of (only
// when not NULL), kind and detail joined with '|'. Rows written before
// as_of existed have it NULL and keep their hash; setting, clearing or
// editing as_of later changes the text hashed. An auditor can recompute it
// with any SHA-256 tool (docs/SCHEMA.md).
func auditHash(prev string, id int64, at string, asOf sql.NullString, kind, detail string) string {
	text := prev + "|" + strconv.FormatInt(id, 10) + "|" + at + "|"
	if asOf.Valid {
		text += asOf.String + "|"
	}
	sum := sha256.Sum256([]byte(text + kind + "|" + detail))
	return hex.EncodeToString(sum[:])
}

// execer runs statements; *sql.Tx and *sql.DB both satisfy it.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// appendAudit adds one entry inside tx, chained to the last row. detail is
// encoded as JSON (map keys sorted by encoding/json). An entry's times are
// never the caller's: at is the wall clock at the write and as_of the
// command's --now (SetAsOf), NULL without one.
func (db *DB) appendAudit(ctx context.Context, tx execer, kind string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("store: audit %s: encode: %w", kind, err)
	}
	var lastID int64
	prev := genesisHash
	err = tx.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&lastID, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: audit %s: read chain head: %w", kind, err)
	}
	id := lastID + 1
	at := FormatTime(time.Now())
	asOf := db.asOf
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, as_of, kind, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, at, asOf, kind, string(b), prev, auditHash(prev, id, at, asOf, kind, string(b)))
	if err != nil {
		return fmt.Errorf("store: audit %s: insert: %w", kind, err)
	}
	return nil
}

// AppendAudit adds one entry in its own transaction (see appendAudit for
// its times).
func (db *DB) AppendAudit(ctx context.Context, kind string, detail any) error {
	return db.inTx(ctx, "store: audit", func(tx *sql.Tx) error {
		return db.appendAudit(ctx, tx, kind, detail)
	})
}

// AuditEntries calls fn for each entry in id order, optionally only those
// whose time starts with prefix (e.g. a day "2026-11-20").
func (db *DB) AuditEntries(ctx context.Context, prefix string, fn func(AuditEntry) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT id, at, as_of, kind, detail, prev_hash, hash FROM audit_log
		WHERE substr(at, 1, length(?1)) = ?1 ORDER BY id`, prefix)
	if err != nil {
		return fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.AsOf, &e.Kind, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("store: audit log: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ChainError names the first audit row that breaks the chain.
type ChainError struct {
	ID     int64
	Reason string
}

func (e *ChainError) Error() string { return fmt.Sprintf("audit_log row %d: %s", e.ID, e.Reason) }

// VerifyAudit walks the whole chain. It returns the number of rows and the
// head hash when intact, or a *ChainError naming the first bad row.
func (db *DB) VerifyAudit(ctx context.Context) (rows int64, head string, err error) {
	prev, wantID := genesisHash, int64(1)
	err = db.AuditEntries(ctx, "", func(e AuditEntry) error {
		switch {
		case e.ID != wantID:
			return &ChainError{ID: e.ID, Reason: fmt.Sprintf("expected row %d here: rows deleted or reordered", wantID)}
		case e.PrevHash != prev:
			return &ChainError{ID: e.ID, Reason: "prev_hash does not match the previous row's hash: a row before it was changed, deleted or reordered"}
		case auditHash(e.PrevHash, e.ID, e.At, e.AsOf, e.Kind, e.Detail) != e.Hash:
			return &ChainError{ID: e.ID, Reason: "hash does not match the row's content: the row was edited"}
		}
		prev, wantID = e.Hash, e.ID+1
		rows++
		return nil
	})
	return rows, prev, err
}

// SetAsOf records that this process runs as of t (--now): each audit row
// it writes records t in as_of beside the wall-clock at.
func (db *DB) SetAsOf(t time.Time) { db.asOf = sql.NullString{String: FormatTime(t), Valid: true} }
