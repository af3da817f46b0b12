package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

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
