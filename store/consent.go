package store

import (
	"context"
	"database/sql"
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
	// ClientClock marks a Time stamped by a browser's clock (bounded above
	// by the server's): a withdrawal so stamped before its visitor's latest
	// record is moved to that record's time, where it wins the tie. A page
	// whose clock runs behind cannot hide a refusal behind an earlier grant.
	ClientClock bool
}

// AddConsents appends records to the consent history in one transaction,
// leaving out those that repeat their visitor's latest state (see
// RecordConsents).
func (db *DB) AddConsents(ctx context.Context, recs []Consent, now time.Time) error {
	_, err := db.RecordConsents(ctx, recs, now)
	return err
}

// RecordConsents appends records to the consent history in one transaction
// and returns how many it added. A record identical to its visitor's
// latest record for the purpose (same grant, source and version) at or
// after that record's time adds no row, so a page that repeats its
// visitor's choice on every load does not grow the table without bound. A
// repeated withdrawal changes no answer of ConsentAt; a repeated grant
// would restart consent.max_age, so one made grantRenewal or more after
// the latest record is kept: a grant renewed when the banner asks again
// keeps counting (its expiry at most a day early), and a visitor's
// repeats add at most one row a day.
func (db *DB) RecordConsents(ctx context.Context, recs []Consent, now time.Time) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: consent: begin: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO consents (visitor_key, purpose, granted, time, source, version, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, fmt.Errorf("store: consent: prepare: %w", err)
	}
	defer stmt.Close()
	latest, err := tx.PrepareContext(ctx, latestConsentSQL)
	if err != nil {
		return 0, fmt.Errorf("store: consent: prepare: %w", err)
	}
	defer latest.Close()
	rec, added := FormatTime(now), 0
	for _, c := range recs {
		last, found, err := latestConsent(ctx, latest, c)
		if err != nil {
			return 0, err
		}
		if found && c.ClientClock && !c.Granted && FormatTime(c.Time) < FormatTime(last.Time) {
			c.Time = last.Time
		}
		if found && repeatsLatest(last, c) {
			continue
		}
		// Before the commit: the intake writer, on this same connection,
		// cannot begin its next transaction before this one ends.
		db.consents.markDirty(c.VisitorKey)
		if _, err := stmt.ExecContext(ctx, c.VisitorKey, c.Purpose, c.Granted, FormatTime(c.Time),
			nullable(c.Source), nullable(c.Version), rec); err != nil {
			return 0, fmt.Errorf("store: consent: insert: %w", err)
		}
		added++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: consent: commit: %w", err)
	}
	return added, nil
}

// latestConsentSQL reads a visitor's latest record for a purpose, ordered
// as ConsentAt reads: at the same instant a withdrawal is the later one.
const latestConsentSQL = `SELECT granted, time, coalesce(source, ''), coalesce(version, '') FROM consents
	WHERE visitor_key = ? AND purpose = ? ORDER BY time DESC, granted ASC LIMIT 1`

// grantRenewal is how long after the latest identical grant a repeat of it
// is kept as a renewal.
const grantRenewal = 24 * time.Hour

// latestConsent reads c's visitor's latest record for c's purpose.
func latestConsent(ctx context.Context, latest *sql.Stmt, c Consent) (Consent, bool, error) {
	var last Consent
	var at string
	err := latest.QueryRowContext(ctx, c.VisitorKey, c.Purpose).Scan(&last.Granted, &at, &last.Source, &last.Version)
	if ok, err := foundAt("store: consent: latest", err, at, &last.Time); !ok {
		return Consent{}, false, err
	}
	return last, true, nil
}

// repeatsLatest reports whether c says again what its visitor's latest
// record says, no earlier than it (and, for a grant, within grantRenewal).
func repeatsLatest(last, c Consent) bool {
	if last.Granted != c.Granted || last.Source != c.Source || last.Version != c.Version || FormatTime(c.Time) < FormatTime(last.Time) {
		return false
	}
	return !last.Granted || c.Time.Sub(last.Time) < grantRenewal
}

// ConsentAt returns the visitor's latest consent record for purpose made at
// or before t (a withdrawal wins a tie with a grant at the same instant), or
// ok=false when there is none.
func (db *DB) ConsentAt(ctx context.Context, visitorKey []byte, purpose string, t time.Time) (c Consent, ok bool, err error) {
	return consentAt(ctx, db.stmts.consentAt, visitorKey, purpose, t)
}

func consentAt(ctx context.Context, stmt *sql.Stmt, visitorKey []byte, purpose string, t time.Time) (c Consent, ok bool, err error) {
	c = Consent{VisitorKey: visitorKey, Purpose: purpose}
	var at string
	err = stmt.QueryRowContext(ctx, visitorKey, purpose, FormatTime(t)).Scan(&c.Granted, &at)
	if ok, err := foundAt("store: consent lookup", err, at, &c.Time); !ok {
		return Consent{}, false, err
	}
	return c, true, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
