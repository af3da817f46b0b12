package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// checkKeyFingerprint compares the key_fingerprint row with the first
// key_fingerprint entry of the audit log, and every later entry with the
// first: a fingerprint swapped for another key's (so that a new key is
// accepted) or deleted (so that any key is) fails, and so does a second key
// recorded after the row was deleted.
func (db *DB) checkKeyFingerprint(ctx context.Context, ix auditIndex, c *DataCheck) error {
	var have string
	err := db.r.QueryRowContext(ctx, `SELECT fingerprint FROM key_fingerprint WHERE id = 1`).Scan(&have)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: verify key_fingerprint: %w", err)
	}
	switch {
	case ix.fingerprint == "" && have != "":
		c.problem("key_fingerprint", "id 1", "no key_fingerprint entry in the audit log records it")
	case ix.fingerprint != "" && have == "":
		c.problem("key_fingerprint", "id 1", "the audit log records a key fingerprint, the row is gone")
	case have != ix.fingerprint:
		c.problem("key_fingerprint", "id 1", "differs from the fingerprint the audit log recorded: the key was swapped")
	}
	for id, fp := range ix.fingerprints {
		if fp != ix.fingerprint {
			c.problem("key_fingerprint", "audit row "+strconv.FormatInt(id, 10), "records a second, different key: the key was changed")
		}
	}
	return nil
}

// checkState checks the rows that must agree with what the audit log says
// happened: every day it records as sealed is sealed in days with its salt
// gone; consent_purge_marks is empty (a purge removes its marks in its own
// transaction, so a mark outside one lets an ordinary DELETE through); and
// no cell carried by a request has lost its uploads row (the next upload
// would send it again).
func (db *DB) checkState(ctx context.Context, ix auditIndex, c *DataCheck) error {
	for day := range ix.seals {
		var sealed, salted bool
		err := db.r.QueryRowContext(ctx, `SELECT sealed_at IS NOT NULL, salt IS NOT NULL FROM days WHERE day = ?`, day).Scan(&sealed, &salted)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			c.problem("days", day, "sealed in the audit log, the row is gone")
		case err != nil:
			return fmt.Errorf("store: verify days: %w", err)
		case !sealed || salted:
			c.problem("days", day, "sealed in the audit log, but not marked sealed or its salt is back")
		}
	}
	marks, err := db.strings(ctx, `SELECT count(*) FROM consent_purge_marks HAVING count(*) > 0`)
	if err != nil {
		return fmt.Errorf("store: verify consent_purge_marks: %w", err)
	}
	for _, n := range marks {
		c.problem("consent_purge_marks", n+" rows", "marks outside a purge: they let consents be deleted without an audit entry")
	}
	lost, err := db.strings(ctx, `SELECT DISTINCT rc.day || '/' || rc.platform || '/' || rc.campaign || '/' || rc.conversion
		FROM upload_request_cells rc LEFT JOIN uploads u USING (day, platform, campaign, conversion)
		WHERE u.day IS NULL ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("store: verify uploads: %w", err)
	}
	for _, key := range lost {
		c.problem("uploads", key, "carried by upload requests, but the row is gone: the next upload would send it again")
	}
	return nil
}

// checkEvents compares each sealed day's events with the number its seal
// recorded: while they are kept, the rows in events; once purged, the
// events its purge entries recorded. A sealed day takes no new events, so
// any difference is an edit (events are counted, not hashed: an event
// changed in place is not seen).
func (db *DB) checkEvents(ctx context.Context, ix auditIndex, c *DataCheck) error {
	for day, seal := range ix.seals {
		if seal.Events == nil {
			continue
		}
		n, purged := ix.purgedEvents[day]
		if !purged {
			if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE day = ?`, day).Scan(&n); err != nil {
				return fmt.Errorf("store: verify events %s: %w", day, err)
			}
		}
		if n != *seal.Events {
			what := "rows in events"
			if purged {
				what = "events purged"
			}
			c.problem("events", day, "the seal recorded %d events, %d %s", *seal.Events, n, what)
		}
	}
	return nil
}

// fingerprintOf reads the fingerprint of a key_fingerprint entry.
func fingerprintOf(detail string) (string, error) {
	var d struct {
		Fingerprint string `json:"fingerprint"`
	}
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		return "", err
	}
	return d.Fingerprint, nil
}
