package store_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

func TestCheckKeyRecordsFingerprintOnceAndRejectsOtherKeys(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	k1, k2 := []byte("first-key-0123456789"), []byte("other-key-0123456789")

	fp, keyed, err := db.KeyState(ctx)
	if err != nil || fp != "" || keyed {
		t.Fatalf("fresh database: KeyState = %q, %v, %v", fp, keyed, err)
	}
	if err := db.CheckKey(ctx, k1, now); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if fp, _, _ = db.KeyState(ctx); fp != store.KeyFingerprint(k1) {
		t.Errorf("recorded fingerprint %q, want %q", fp, store.KeyFingerprint(k1))
	}
	if strings.Contains(fp, string(k1)) || strings.Contains(fp, "6669727374") {
		t.Errorf("fingerprint %q reveals the key", fp)
	}
	if err := db.CheckKey(ctx, k1, now); err != nil {
		t.Errorf("same key again: %v", err)
	}
	if err := db.CheckKey(ctx, k2, now); !errors.Is(err, store.ErrKeyMismatch) {
		t.Errorf("other key: err = %v, want ErrKeyMismatch", err)
	}
	var n int
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE kind = ?`, store.AuditKeyFingerprint).Scan(&n)
	if n != 1 {
		t.Errorf("%d key_fingerprint audit entries, want 1", n)
	}
	for _, q := range []string{`UPDATE key_fingerprint SET fingerprint = 'x'`, `DELETE FROM key_fingerprint`} {
		if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, q); err == nil {
			t.Errorf("%s: allowed, want write-once", q)
		}
	}
}

func TestKeyStateSeesKeyedRows(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	c := store.Consent{VisitorKey: []byte("v"), Purpose: "advertising", Granted: true, Time: now}
	if err := db.AddConsents(ctx, []store.Consent{c}, now); err != nil {
		t.Fatal(err)
	}
	if _, keyed, err := db.KeyState(ctx); err != nil || !keyed {
		t.Errorf("after a consent: keyed = %v, %v; want true", keyed, err)
	}
}

// TestKeyFingerprintMatchesOpenSSL proves the command docs/SCHEMA.md gives
// for computing a fingerprint by hand.
func TestKeyFingerprintMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	key := "some-key-0123456789abcdef"
	cmd := exec.Command("sh", "-c", `printf 'tally key fingerprint v1' | openssl dgst -sha256 -hmac "$K" | awk '{print $NF}'`)
	cmd.Env = append(os.Environ(), "K="+key)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != store.KeyFingerprint([]byte(key)) {
		t.Errorf("openssl gives %s, tally %s", got, store.KeyFingerprint([]byte(key)))
	}
}

// TestDeletedFingerprintDoesNotLetAnotherKeyIn: with the key_fingerprint
// row deleted (its trigger dropped first), the fingerprint the audit log
// recorded still decides, so another key is refused and the first key
// still works; verify reports the missing row.
func TestDeletedFingerprintDoesNotLetAnotherKeyIn(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	k1, k2 := []byte("first-key-0123456789"), []byte("other-key-0123456789")
	if err := db.CheckKey(ctx, k1, now); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, `DROP TRIGGER key_fingerprint_no_delete; DELETE FROM key_fingerprint`); err != nil {
		t.Fatal(err)
	}
	if fp, _, err := db.KeyState(ctx); err != nil || fp != store.KeyFingerprint(k1) {
		t.Errorf("KeyState = %q, %v; want the first key's fingerprint from the audit log", fp, err)
	}
	if err := db.CheckKey(ctx, k2, now); !errors.Is(err, store.ErrKeyMismatch) {
		t.Errorf("other key after the row was deleted: err = %v, want ErrKeyMismatch", err)
	}
	if err := db.CheckKey(ctx, k1, now); err != nil {
		t.Errorf("first key: %v", err)
	}
	c, err := db.VerifyData(ctx)
	if err != nil || len(c.Problems) != 1 || !strings.Contains(c.Problems[0].String(), "the row is gone") {
		t.Errorf("verify: %v %v, want the missing row reported", c.Problems, err)
	}
	// A second key recorded by a build without this check fails verify
	// even once the row matches it.
	if err := db.AppendAudit(ctx, store.AuditKeyFingerprint, map[string]string{"fingerprint": store.KeyFingerprint(k2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, `INSERT INTO key_fingerprint (id, fingerprint, recorded_at) VALUES (1, ?, '')`, store.KeyFingerprint(k2)); err != nil {
		t.Fatal(err)
	}
	c, _ = db.VerifyData(ctx)
	var msgs []string
	for _, p := range c.Problems {
		msgs = append(msgs, p.String())
	}
	if got := strings.Join(msgs, "\n"); !strings.Contains(got, "records a second, different key") || !strings.Contains(got, "differs from the fingerprint") {
		t.Errorf("verify after a second key: %q", msgs)
	}
}
