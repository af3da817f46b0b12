package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Consent is one entry of the append-only consent history.
type Consent struct {
	VisitorKey []byte
	Purpose    string
	Granted    bool
	Time       time.Time
	Source     string // optional evidence: the consent tool's name
	Version    string // optional evidence: the policy version
}

// AddConsents appends records to the consent history in one transaction.
func (db *DB) AddConsents(ctx context.Context, recs []Consent, now time.Time) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: consent: begin: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO consents (visitor_key, purpose, granted, time, source, version, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: consent: prepare: %w", err)
	}
	defer stmt.Close()
	rec := FormatTime(now)
	for _, c := range recs {
		// Before the commit: the intake writer, on this same connection,
		// cannot begin its next transaction before this one ends.
		db.consents.markDirty(c.VisitorKey)
		if _, err := stmt.ExecContext(ctx, c.VisitorKey, c.Purpose, c.Granted, FormatTime(c.Time),
			nullable(c.Source), nullable(c.Version), rec); err != nil {
			return fmt.Errorf("store: consent: insert: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: consent: commit: %w", err)
	}
	return nil
}

// ConsentAt returns the visitor's latest consent record for purpose made at
// or before t (a withdrawal wins a tie with a grant at the same instant), or
// ok=false when there is none.
func (db *DB) ConsentAt(ctx context.Context, visitorKey []byte, purpose string, t time.Time) (c Consent, ok bool, err error) {
	return consentAt(ctx, db.stmts.consentAt, visitorKey, purpose, t)
}

func consentAt(ctx context.Context, stmt *sql.Stmt, visitorKey []byte, purpose string, t time.Time) (c Consent, ok bool, err error) {
	var granted bool
	var at string
	err = stmt.QueryRowContext(ctx, visitorKey, purpose, FormatTime(t)).Scan(&granted, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Consent{}, false, nil
	}
	if err != nil {
		return Consent{}, false, fmt.Errorf("store: consent lookup: %w", err)
	}
	ts, err := ParseTime(at)
	if err != nil {
		return Consent{}, false, fmt.Errorf("store: consent lookup: bad time %q: %w", at, err)
	}
	return Consent{VisitorKey: visitorKey, Purpose: purpose, Granted: granted, Time: ts}, true, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
