package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// TestAuditAtIsWallClock: a command run as of --now writes the wall clock
// in at and the --now instant in as_of; without --now as_of is NULL.
func TestAuditAtIsWallClock(t *testing.T) {
	ctx := context.Background()
	db := auditDB(t, 1) // written without --now
	asOf := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	before := time.Now()
	db.SetAsOf(asOf)
	// The caller's own time is neither at nor as_of.
	if err := db.AppendAudit(ctx, store.AuditRollup, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	var got []store.AuditEntry
	db.AuditEntries(ctx, "", func(e store.AuditEntry) error { got = append(got, e); return nil })
	if len(got) != 2 || got[0].AsOf.Valid {
		t.Fatalf("entries %+v; want row 1 without as_of", got)
	}
	at, err := store.ParseTime(got[1].At)
	if err != nil || at.Before(before.Truncate(time.Millisecond)) || at.After(after) {
		t.Errorf("at = %s, want the wall clock between %s and %s", got[1].At, before, after)
	}
	if got[1].AsOf.String != "2030-01-02T03:04:05.000Z" {
		t.Errorf("as_of = %+v, want the --now instant", got[1].AsOf)
	}
	if _, _, err := db.VerifyAudit(ctx); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// TestAuditAsOfInHash: as_of is hashed, so setting, clearing or editing it
// breaks the chain; a row written before as_of existed (old formula, NULL)
// still verifies.
func TestAuditAsOfInHash(t *testing.T) {
	ctx := context.Background()
	for _, edit := range []string{
		`UPDATE audit_log SET as_of = '2031-01-01T00:00:00.000Z' WHERE id = 2`,
		`UPDATE audit_log SET as_of = NULL WHERE id = 2`,
		`UPDATE audit_log SET as_of = '' WHERE id = 2`,
		`UPDATE audit_log SET as_of = '2031-01-01T00:00:00.000Z' WHERE id = 1`,
	} {
		db := auditDB(t, 1)
		db.SetAsOf(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		if err := db.AppendAudit(ctx, store.AuditRollup, map[string]int{"n": 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlfile.Open(t, db.Path).Exec(`DROP TRIGGER audit_log_no_update; ` + edit); err != nil {
			t.Fatal(err)
		}
		var ce *store.ChainError
		if _, _, err := db.VerifyAudit(ctx); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "edited") {
			t.Errorf("%s: verify = %v, want the row reported edited", edit, err)
		}
	}

	// A row as written before the as_of column existed: hashed without it.
	db := auditDB(t, 0)
	genesis := strings.Repeat("0", 64)
	at, detail := "2026-01-01T00:00:00.000Z", `{"n":1}`
	sum := sha256.Sum256([]byte(genesis + "|1|" + at + "|rollup|" + detail))
	if _, err := sqlfile.Open(t, db.Path).Exec(`INSERT INTO audit_log (id, at, kind, detail, prev_hash, hash) VALUES (1, ?, 'rollup', ?, ?, ?)`,
		at, detail, genesis, hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	if n, _, err := db.VerifyAudit(ctx); err != nil || n != 1 {
		t.Errorf("a row from before as_of: verify = %d, %v", n, err)
	}
}

// TestAuditAnchor: an anchor taken from AuditHead holds while the chain
// grows, and fails when its row is missing, changed or rewritten.
func TestAuditAnchor(t *testing.T) {
	ctx := context.Background()
	anchored := func(t *testing.T) (*store.DB, store.Anchor) {
		db := auditDB(t, 3)
		a, ok, err := db.AuditHead(ctx)
		if err != nil || !ok || a.ID != 3 || len(a.Hash) != 64 {
			t.Fatalf("head = %v %v %v", a, ok, err)
		}
		if p, err := store.ParseAnchor(a.String()); err != nil || p != a {
			t.Fatalf("parse %q = %v %v", a, p, err)
		}
		for i := 0; i < 2; i++ {
			if err := db.AppendAudit(ctx, store.AuditRollup, map[string]int{"later": i}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sqlfile.Open(t, db.Path).Exec(`DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete`); err != nil {
			t.Fatal(err)
		}
		return db, a
	}
	db, a := anchored(t)
	if err := db.CheckAnchor(ctx, a); err != nil {
		t.Fatalf("intact: %v", err)
	}
	tests := []struct{ name, sql, reason string }{
		{"cut", `DELETE FROM audit_log WHERE id >= 3`, "missing"},
		{"row edited", `UPDATE audit_log SET detail = '{"n":9}' WHERE id = 3`, "edited"},
		{"rewritten", `UPDATE audit_log SET hash = 'x' || substr(hash, 2) WHERE id = 3`, "rewritten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, a := anchored(t)
			if _, err := sqlfile.Open(t, db.Path).Exec(tt.sql); err != nil {
				t.Fatal(err)
			}
			var ce *store.ChainError
			if err := db.CheckAnchor(ctx, a); !errors.As(err, &ce) || ce.ID != 3 || !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("check = %v, want row 3 %s", err, tt.reason)
			}
		})
	}
	t.Run("whole chain recomputed", func(t *testing.T) {
		// The tamperer rebuilds a valid chain with one detail changed: it
		// verifies on its own, but not against the anchor.
		db, a := anchored(t)
		fresh := auditDB(t, 0)
		for i := 0; i < 5; i++ {
			if err := fresh.AppendAudit(ctx, store.AuditRollup, map[string]int{"n": i + 100}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sqlfile.Open(t, db.Path).Exec(`DELETE FROM audit_log`); err != nil {
			t.Fatal(err)
		}
		rows, _ := sqlfile.Open(t, fresh.Path).Query(`SELECT id, at, kind, detail, prev_hash, hash FROM audit_log ORDER BY id`)
		for rows.Next() {
			var id int64
			var at, kind, detail, prev, hash string
			rows.Scan(&id, &at, &kind, &detail, &prev, &hash)
			if _, err := sqlfile.Open(t, db.Path).Exec(`INSERT INTO audit_log (id, at, kind, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)`,
				id, at, kind, detail, prev, hash); err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
		if _, _, err := db.VerifyAudit(ctx); err != nil {
			t.Fatalf("rebuilt chain should verify alone: %v", err)
		}
		if err := db.CheckAnchor(ctx, a); err == nil {
			t.Error("a recomputed chain passed the anchor")
		}
	})
	h := strings.Repeat("ab", 32)
	for _, bad := range []string{"", "3", "3:abc", "x:" + h, "0:" + h, "-3:" + h, "+3:" + h, " 3 :" + h, "3: " + h, "3:" + h + ":x",
		"3:" + h + "0", "99999999999999999999:" + h, "0x3:" + h, "3;" + h} {
		if _, err := store.ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
	// The same anchor, as an auditor may have noted it: upper case, or
	// with the blanks a copy picked up.
	for _, good := range []string{"3:" + strings.ToUpper(h), " 3:" + h + "\n", "\t3:" + h} {
		if a, err := store.ParseAnchor(good); err != nil || a != (store.Anchor{ID: 3, Hash: h}) {
			t.Errorf("ParseAnchor(%q) = %v, %v; want 3:%s", good, a, err, h)
		}
	}
}
