package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// AuditKeyFingerprint is the audit entry written when a database records
// the fingerprint of its key.
const AuditKeyFingerprint = "key_fingerprint"

// keyFingerprintLabel is the fixed message the fingerprint hashes. Changing
// it would make every existing database reject its own key.
const keyFingerprintLabel = "tally key fingerprint v1"

// ErrKeyMismatch means the key is not the one the database was first used
// with.
var ErrKeyMismatch = errors.New("store: key does not match the database's key fingerprint")

// KeyFingerprint is hex(HMAC-SHA256(key, "tally key fingerprint v1")): it
// tells keys apart without revealing them, and only a holder of the key
// can compute it.
func KeyFingerprint(key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(keyFingerprintLabel))
	return hex.EncodeToString(mac.Sum(nil))
}

// KeyState reports the recorded key fingerprint ("" when none) and whether
// the database already holds rows hashed with some key (consents, or days
// whose events and upload ids were keyed). A caller must not pair such a
// database with a newly created key.
func (db *DB) KeyState(ctx context.Context) (fingerprint string, keyed bool, err error) {
	if fingerprint, err = recordedFingerprint(ctx, db.w); err != nil {
		return "", false, fmt.Errorf("store: read key fingerprint: %w", err)
	}
	err = db.w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM consents) OR EXISTS (SELECT 1 FROM days)`).Scan(&keyed)
	if err != nil {
		return "", false, fmt.Errorf("store: look for keyed rows: %w", err)
	}
	return fingerprint, keyed, nil
}

// CheckKey compares key's fingerprint with the recorded one and returns
// ErrKeyMismatch when they differ. A database without a fingerprint
// records this key's, with an audit entry, in the same transaction, so two
// processes starting at once with different keys cannot both succeed.
func (db *DB) CheckKey(ctx context.Context, key []byte, now time.Time) error {
	want := KeyFingerprint(key)
	return db.inTx(ctx, "store: check key", func(tx *sql.Tx) error {
		have, err := recordedFingerprint(ctx, tx)
		switch {
		case err != nil:
			return fmt.Errorf("store: check key: read fingerprint: %w", err)
		case have != "" && !hmac.Equal([]byte(have), []byte(want)):
			return ErrKeyMismatch
		case have != "":
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO key_fingerprint (id, fingerprint, recorded_at) VALUES (1, ?, ?)`,
			want, FormatTime(now)); err != nil {
			return fmt.Errorf("store: check key: record fingerprint: %w", err)
		}
		return db.appendAudit(ctx, tx, AuditKeyFingerprint, map[string]any{"fingerprint": want})
	})
}

// recordedFingerprint is the fingerprint the database was first used with:
// the key_fingerprint row, or, when someone deleted it, the first
// key_fingerprint entry of the audit log, so that deleting the row does not
// let another key in (`tally audit verify` reports the missing row). ""
// when neither exists.
func recordedFingerprint(ctx context.Context, q execer) (string, error) {
	var fp string
	err := q.QueryRowContext(ctx, `SELECT coalesce(
		(SELECT fingerprint FROM key_fingerprint WHERE id = 1),
		(SELECT json_extract(detail, '$.fingerprint') FROM audit_log WHERE kind = ? ORDER BY id LIMIT 1), '')`,
		AuditKeyFingerprint).Scan(&fp)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	return fp, nil
}
