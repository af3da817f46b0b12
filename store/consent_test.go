package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

func TestConsentAt(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	v := []byte("visitor")
	recs := []store.Consent{
		{VisitorKey: v, Purpose: "advertising", Granted: true, Time: t0, Source: "cmp", Version: "v3"},
		{VisitorKey: v, Purpose: "advertising", Granted: false, Time: t0.Add(time.Hour)},
		{VisitorKey: v, Purpose: "advertising", Granted: true, Time: t0.Add(2 * time.Hour)},
		{VisitorKey: v, Purpose: "advertising", Granted: false, Time: t0.Add(2 * time.Hour)},
	}
	if err := db.AddConsents(ctx, recs, t0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at      time.Time
		ok, got bool
	}{
		{t0.Add(-time.Second), false, false},
		{t0, true, true},
		{t0.Add(30 * time.Minute), true, true},
		{t0.Add(time.Hour), true, false},
		{t0.Add(3 * time.Hour), true, false}, // withdrawal wins the tie
	}
	for _, tt := range tests {
		c, ok, err := db.ConsentAt(ctx, v, "advertising", tt.at)
		if err != nil {
			t.Fatal(err)
		}
		if ok != tt.ok || c.Granted != tt.got {
			t.Errorf("at %s: ok=%v granted=%v, want ok=%v granted=%v", tt.at, ok, c.Granted, tt.ok, tt.got)
		}
	}
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, "DELETE FROM consents"); err == nil {
		t.Error("consents accepted a DELETE")
	}
}

// writerConsent asks the intake writer's transaction, and so its consent
// cache, for visitor's consent at at: "granted since <time>" or "none".
func writerConsent(t *testing.T, db *store.DB, visitor string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	var got string
	err := db.WriteIntake(ctx, func(tx *store.IntakeTx) error {
		granted, since, err := tx.Consent(ctx, []byte(visitor), "advertising", at)
		got = "none"
		if granted {
			got = "granted since " + since.Format(time.TimeOnly)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestWriterSeesEveryConsentChange checks the intake writer's consent
// cache stays exact: a withdrawal made through the same handle, or by
// another process (another handle on the file), applies to the very next
// event after a grant was cached.
func TestWriterSeesEveryConsentChange(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	choice := func(t *testing.T, db *store.DB, visitor string, granted bool, at time.Time) {
		t.Helper()
		if err := db.AddConsents(ctx, []store.Consent{{VisitorKey: []byte(visitor), Purpose: "advertising", Granted: granted, Time: at}}, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, other := range []bool{false, true} {
		t.Run(fmt.Sprintf("other process %v", other), func(t *testing.T) {
			db := storetest.Open(t)
			writer := db
			if other {
				o, err := store.Open(ctx, db.Path, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer o.Close()
				writer = o
			}
			if got := writerConsent(t, db, "v", t0); got != "none" {
				t.Fatalf("before any consent: %s", got)
			}
			choice(t, writer, "v", true, t0.Add(time.Minute))
			if got := writerConsent(t, db, "v", t0.Add(2*time.Minute)); got != "granted since 08:01:00" {
				t.Fatalf("after the grant: %s", got)
			}
			choice(t, writer, "v", false, t0.Add(3*time.Minute))
			if got := writerConsent(t, db, "v", t0.Add(4*time.Minute)); got != "none" {
				t.Errorf("after the withdrawal: %s", got)
			}
			// Events before the withdrawal still count (history, not state).
			if got := writerConsent(t, db, "v", t0.Add(150*time.Second)); got != "granted since 08:01:00" {
				t.Errorf("event between grant and withdrawal: %s", got)
			}
			choice(t, writer, "v", true, t0.Add(5*time.Minute))
			if got := writerConsent(t, db, "v", t0.Add(6*time.Minute)); got != "granted since 08:05:00" {
				t.Errorf("after granting again: %s", got)
			}
			// The grant's time is returned for intake to judge its age
			// against the event's time.
			if got := writerConsent(t, db, "v", t0.Add(5*time.Minute+25*time.Hour)); got != "granted since 08:05:00" {
				t.Errorf("a day later: %s", got)
			}
		})
	}
}

// TestConsentRepeatAddsNoRow: a record identical to its visitor's latest
// (same purpose, grant, source and version, no earlier) adds no row, in
// separate calls and within one batch; anything that differs, or that
// would change the history before the latest record, is kept, and so is a
// grant renewed a day or more after the latest one (it restarts max_age).
func TestConsentRepeatAddsNoRow(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	rec := func(visitor string, granted bool, at time.Time, source string) store.Consent {
		return store.Consent{VisitorKey: []byte(visitor), Purpose: "advertising", Granted: granted, Time: at, Source: source, Version: "v1"}
	}
	steps := []struct {
		name string
		recs []store.Consent
		want int
	}{
		{"first grant", []store.Consent{rec("a", true, t0, "tally.js")}, 1},
		{"the same grant later", []store.Consent{rec("a", true, t0.Add(time.Hour), "tally.js")}, 0},
		{"the same grant at the same time", []store.Consent{rec("a", true, t0, "tally.js")}, 0},
		{"the same grant a day later: a renewal", []store.Consent{rec("a", true, t0.Add(24*time.Hour), "tally.js")}, 1},
		{"another source", []store.Consent{rec("a", true, t0.Add(26*time.Hour), "cmp")}, 1},
		{"a withdrawal, then its repeat in one batch", []store.Consent{
			rec("a", false, t0.Add(27*time.Hour), "cmp"), rec("a", false, t0.Add(28*time.Hour), "cmp")}, 1},
		{"the same withdrawal days later", []store.Consent{rec("a", false, t0.Add(100*time.Hour), "cmp")}, 0},
		{"a repeat dated before the latest record", []store.Consent{rec("a", false, t0.Add(-time.Hour), "cmp")}, 1},
		{"another visitor", []store.Consent{rec("b", false, t0.Add(4*time.Hour), "cmp")}, 1},
		{"another purpose", []store.Consent{{VisitorKey: []byte("a"), Purpose: "analytics", Granted: false, Time: t0.Add(5 * time.Hour), Source: "cmp", Version: "v1"}}, 1},
	}
	total := 0
	for _, s := range steps {
		n, err := db.RecordConsents(ctx, s.recs, t0)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if n != s.want {
			t.Errorf("%s: added %d, want %d", s.name, n, s.want)
		}
		total += s.want
	}
	var rows int
	if err := sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT count(*) FROM consents`).Scan(&rows); err != nil || rows != total {
		t.Errorf("consents rows = %d (%v), want %d", rows, err, total)
	}
	// The answers are those of the full history.
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{t0.Add(90 * time.Minute), true}, {t0.Add(26 * time.Hour), true}, {t0.Add(29 * time.Hour), false}} {
		got, ok, err := db.ConsentAt(ctx, []byte("a"), "advertising", c.at)
		if err != nil || !ok || got.Granted != c.want {
			t.Errorf("ConsentAt %s = %v %v %v, want granted=%v", c.at, got.Granted, ok, err, c.want)
		}
	}
}

// A time edited outside tally (its append-only trigger dropped first) in a
// row read alone is an error naming the read and the value, never a zero
// time.
func TestEditedTimeIsAnError(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	v := []byte("visitor")
	if _, err := db.AddScan(ctx, store.Scan{ScannedAt: t0, Targets: []string{"https://example.org/"}}); err != nil {
		t.Fatal(err)
	}
	storetest.Grant(t, db, v, t0)
	if _, err := sqlfile.Open(t, db.Path).Exec(`DROP TRIGGER scans_no_update; DROP TRIGGER consents_no_update;
		UPDATE scans SET scanned_at = '2026-11-01 edited'; UPDATE consents SET time = '2026-11-01 edited'`); err != nil {
		t.Fatal(err)
	}
	const bad = `bad time "2026-11-01 edited"`
	if _, _, err := db.LatestScan(ctx); err == nil || !strings.Contains(err.Error(), "store: latest scan: "+bad) {
		t.Errorf("latest scan: err = %v", err)
	}
	if _, _, err := db.ConsentAt(ctx, v, "advertising", t0); err == nil || !strings.Contains(err.Error(), "store: consent lookup: "+bad) {
		t.Errorf("consent at: err = %v", err)
	}
	again := []store.Consent{{VisitorKey: v, Purpose: "advertising", Granted: true, Time: t0.Add(time.Hour)}}
	if err := db.AddConsents(ctx, again, t0.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "store: consent: latest: "+bad) {
		t.Errorf("add consents: err = %v", err)
	}
}

// TestForgetReachesTheWriter: after ForgetConsents, by this process or
// another, the intake writer (which had the visitor's grants cached, for
// two purposes) sees no consent, and only that visitor's rows are gone.
func TestForgetReachesTheWriter(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for _, other := range []bool{false, true} {
		t.Run(fmt.Sprintf("other process %v", other), func(t *testing.T) {
			db := storetest.Open(t)
			forgetter := db
			if other {
				o, err := store.Open(ctx, db.Path, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer o.Close()
				forgetter = o
			}
			var recs []store.Consent
			for _, v := range []string{"v", "w"} {
				for _, p := range []string{"advertising", "health_data"} {
					recs = append(recs, store.Consent{VisitorKey: []byte(v), Purpose: p, Granted: true, Time: t0})
				}
			}
			if err := db.AddConsents(ctx, recs, t0); err != nil {
				t.Fatal(err)
			}
			if got := writerConsent(t, db, "v", t0.Add(time.Minute)); got != "granted since 08:00:00" {
				t.Fatalf("before forget: %s", got)
			}
			n, err := forgetter.ForgetConsents(ctx, []byte("v"))
			if err != nil || n != 2 {
				t.Fatalf("forget: %d %v, want 2 rows", n, err)
			}
			if got := writerConsent(t, db, "v", t0.Add(time.Minute)); got != "none" {
				t.Errorf("after forget: %s", got)
			}
			if got := writerConsent(t, db, "w", t0.Add(time.Minute)); got != "granted since 08:00:00" {
				t.Errorf("another visitor after forget: %s", got)
			}
			if hist, _, err := db.ConsentHistory(ctx, []byte("w")); err != nil || len(hist) != 2 {
				t.Errorf("another visitor's history: %d records, %v", len(hist), err)
			}
		})
	}
}
