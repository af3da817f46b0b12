package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/store/storetest"
)

func TestMigrationFilesAreNumberedWithoutGaps(t *testing.T) {
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		if want := fmt.Sprintf("%04d_", i+1); !strings.HasPrefix(e.Name(), want) {
			t.Errorf("migration %s: want prefix %s", e.Name(), want)
		}
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")

	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatalf("fresh: %v", err)
	}
	var v int
	db.R.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	if v != store.SchemaVersion() {
		t.Errorf("user_version = %d, want %d", v, store.SchemaVersion())
	}
	var mode string
	db.R.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q", mode)
	}
	for _, table := range []string{"events", "consents", "intake_outcomes", "days"} {
		var n int
		if err := db.R.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s missing (%v)", table, err)
		}
	}
	db.Close()

	// Already migrated: opens without re-running anything.
	db, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	// Too new: refused.
	if _, err := db.W.ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = store.Open(ctx, path, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("too-new database: err = %v", err)
	}
}

func TestWriteIntakeOutcomes(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	rule := store.ConsentRule{Purpose: "advertising", MaxAge: time.Hour}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var grants []store.Consent
	for _, v := range []string{"a", "b", "z"} {
		grants = append(grants, store.Consent{VisitorKey: []byte("v-" + v), Purpose: "advertising", Granted: true, Time: t0})
	}
	if err := db.AddConsents(ctx, grants, t0); err != nil {
		t.Fatal(err)
	}
	cell := tally.Cell{Day: "2026-11-20", Platform: "meta", Campaign: "c1", Conversion: "booking"}
	ev := func(id, visitor string, c tally.Cell) *store.NewEvent {
		return &store.NewEvent{Cell: c, DedupKey: []byte("id-" + id), VisitorKey: []byte("v-" + visitor), At: t0.Add(time.Minute)}
	}
	other := cell
	other.Campaign = "c2"
	batch := []*store.NewEvent{
		ev("1", "a", cell),  // accepted
		ev("1", "b", cell),  // duplicate event id
		ev("2", "a", cell),  // same visitor, same cell: over_bound
		ev("3", "a", other), // same visitor, other cell: accepted
		ev("4", "q", cell),  // no consent record
	}
	w := &store.IntakeWrite{Events: batch, Drops: map[store.OutcomeKey]int{{Day: cell.Day, Outcome: tally.Dropped, Reason: tally.ReasonGPC}: 2}}
	if err := db.WriteIntake(ctx, rule, []*store.IntakeWrite{w}); err != nil {
		t.Fatal(err)
	}
	want := []string{"accepted/", "duplicate/", "dropped/over_bound", "accepted/", "dropped/no_consent"}
	for i, e := range batch {
		if got := e.Outcome.String() + "/" + e.Reason.String(); got != want[i] {
			t.Errorf("event %d: %s, want %s", i, got, want[i])
		}
	}
	counts, err := db.OutcomeCounts(ctx, cell.Day)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[store.OutcomeKey]int{
		{cell.Day, tally.Accepted, tally.ReasonNone}:     2,
		{cell.Day, tally.Duplicate, tally.ReasonNone}:    1,
		{cell.Day, tally.Dropped, tally.ReasonOverBound}: 1,
		{cell.Day, tally.Dropped, tally.ReasonGPC}:       2,
	}
	for k, n := range wantCounts {
		if counts[k] != n {
			t.Errorf("%v = %d, want %d", k, counts[k], n)
		}
	}

	// A sealed day drops its events as late.
	if _, err := db.W.ExecContext(ctx, `UPDATE days SET salt = NULL, sealed_at = ? WHERE day = ?`, store.FormatTime(time.Now()), cell.Day); err != nil {
		t.Fatal(err)
	}
	late := ev("9", "z", cell)
	if err := db.WriteIntake(ctx, rule, []*store.IntakeWrite{{Events: []*store.NewEvent{late}}}); err != nil {
		t.Fatal(err)
	}
	if late.Outcome != tally.Dropped || late.Reason != tally.ReasonLate {
		t.Errorf("sealed day: %s/%s, want dropped/late", late.Outcome, late.Reason)
	}
}

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
	if _, err := db.W.ExecContext(ctx, "DELETE FROM consents"); err == nil {
		t.Error("consents accepted a DELETE")
	}
}

// TestRunningCountsMatchEvents sends random events (duplicates, repeat
// visitors, several days) through WriteIntake and checks that cell_counts
// always equals a GROUP BY over events.
func TestRunningCountsMatchEvents(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		w := &store.IntakeWrite{}
		for i := 0; i < 50; i++ {
			c := tally.Cell{Day: tally.Day(fmt.Sprintf("2026-11-%02d", 10+rng.IntN(3))), Platform: []tally.Platform{"meta", "none"}[rng.IntN(2)],
				Campaign: fmt.Sprintf("c%d", rng.IntN(3)), Conversion: "booking"}
			w.Events = append(w.Events, &store.NewEvent{Cell: c,
				DedupKey:   fmt.Appendf(nil, "e%d", rng.IntN(400)),
				VisitorKey: fmt.Appendf(nil, "v%d", rng.IntN(30))})
		}
		storetest.WriteEvents(t, db, w)
	}
	q := func(sql string) string {
		rows, err := db.R.QueryContext(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var d, p, c, v string
			var n int
			rows.Scan(&d, &p, &c, &v, &n)
			fmt.Fprintf(&b, "%s %s %s %s %d\n", d, p, c, v, n)
		}
		return b.String()
	}
	running := q(`SELECT day, platform, campaign, conversion, events FROM cell_counts ORDER BY 1, 2, 3, 4`)
	counted := q(`SELECT day, platform, campaign, conversion, count(*) FROM events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`)
	if running != counted || running == "" {
		t.Errorf("cell_counts:\n%s\nevents:\n%s", running, counted)
	}
}

// TestEventsKeepNoArrivalOrder: events has no row id, so nothing in it
// says which event came first (an increasing id could be lined up with
// consent times to tie events back to visitor keys).
func TestEventsKeepNoArrivalOrder(t *testing.T) {
	db := storetest.Open(t)
	if _, err := db.R.Exec(`SELECT rowid FROM events`); err == nil {
		t.Error("events has a rowid")
	}
	var sql string
	db.R.QueryRow(`SELECT sql FROM sqlite_schema WHERE name = 'events'`).Scan(&sql)
	if !strings.Contains(sql, "WITHOUT ROWID") {
		t.Errorf("events is not WITHOUT ROWID: %s", sql)
	}
}

func TestOpenCreatesDatabaseWALAndSHMPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tally.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AppendAudit(ctx, store.AuditRunConfig, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(name), fi.Mode().Perm())
		}
	}
}

func TestOpenKeepsTheModeOfAnExistingFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	path := filepath.Join(t.TempDir(), "tally.db")
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o640)
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after Open: %v, %v; want 0640 kept", fi.Mode().Perm(), err)
	}
}
