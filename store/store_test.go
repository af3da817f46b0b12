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

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
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
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	if v != store.SchemaVersion() {
		t.Errorf("user_version = %d, want %d", v, store.SchemaVersion())
	}
	var mode string
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q", mode)
	}
	for _, table := range []string{"events", "consents", "intake_outcomes", "days"} {
		var n int
		if err := sqlfile.Open(t, db.Path).QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", table).Scan(&n); err != nil || n != 1 {
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
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = store.Open(ctx, path, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("too-new database: err = %v", err)
	}
}

// TestRunningCountsMatchEvents sends random events (duplicates, repeat
// visitors, several days) through the intake writer and checks that cell_counts
// always equals a GROUP BY over events.
func TestRunningCountsMatchEvents(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		var evs []storetest.Event
		for i := 0; i < 50; i++ {
			c := tally.Cell{Day: tally.Day(fmt.Sprintf("2026-11-%02d", 10+rng.IntN(3))), Platform: []tally.Platform{"meta", "none"}[rng.IntN(2)],
				Campaign: fmt.Sprintf("c%d", rng.IntN(3)), Conversion: "booking"}
			evs = append(evs, storetest.Event{Cell: c,
				EventKey:   fmt.Appendf(nil, "e%d", rng.IntN(400)),
				VisitorKey: fmt.Appendf(nil, "v%d", rng.IntN(30))})
		}
		storetest.WriteEvents(t, db, evs...)
	}
	q := func(sql string) string {
		rows, err := sqlfile.Open(t, db.Path).QueryContext(ctx, sql)
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
	if _, err := sqlfile.Open(t, db.Path).Exec(`SELECT rowid FROM events`); err == nil {
		t.Error("events has a rowid")
	}
	var sql string
	sqlfile.Open(t, db.Path).QueryRow(`SELECT sql FROM sqlite_schema WHERE name = 'events'`).Scan(&sql)
	if !strings.Contains(sql, "WITHOUT ROWID") {
		t.Errorf("events is not WITHOUT ROWID: %s", sql)
	}
}

func TestOpenCreatesDatabaseWALAndSHMPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	db := storetest.Open(t)
	path := db.Path
	if err := db.AppendAudit(context.Background(), store.AuditRunConfig, map[string]any{}); err != nil {
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

// TestIntakeCells checks the facts intake.max_cells_per_day is judged on:
// whether a cell holds events and how many cells its day holds, counting
// the cells opened earlier in the same transaction and, in a later one,
// those in cell_counts.
func TestIntakeCells(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	day, next := tally.Day("2026-11-20"), tally.Day("2026-11-21")
	cell := func(d tally.Day, campaign string) tally.Cell {
		return tally.Cell{Day: d, Platform: "meta", Campaign: campaign, Conversion: "booking"}
	}
	n := 0
	cells := func(tx *store.IntakeTx, cs ...tally.Cell) string {
		t.Helper()
		var out []string
		for _, c := range cs {
			exists, onDay, err := tx.Cells(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s:%v/%d", c.Campaign, exists, onDay))
		}
		return fmt.Sprint(out)
	}
	insert := func(tx *store.IntakeTx, c tally.Cell) {
		t.Helper()
		n++
		if open, err := tx.DayOpen(ctx, c.Day); err != nil || !open {
			t.Fatalf("day %s: open %v, %v", c.Day, open, err)
		}
		if ok, err := tx.InsertEvent(ctx, c, fmt.Appendf(nil, "e%d", n)); err != nil || !ok {
			t.Fatalf("insert: %v %v", ok, err)
		}
	}
	err := db.WriteIntake(ctx, func(tx *store.IntakeTx) error {
		if got := cells(tx, cell(day, "a")); got != "[a:false/0]" {
			t.Errorf("empty day: %s", got)
		}
		insert(tx, cell(day, "a"))
		if got := cells(tx, cell(day, "a"), cell(day, "b")); got != "[a:true/0 b:false/1]" {
			t.Errorf("after opening a: %s", got)
		}
		insert(tx, cell(day, "b"))
		insert(tx, cell(day, "a"))
		if got := cells(tx, cell(day, "c"), cell(next, "c")); got != "[c:false/2 c:false/0]" {
			t.Errorf("after opening b: %s", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A later transaction counts the day's cells from cell_counts.
	err = db.WriteIntake(ctx, func(tx *store.IntakeTx) error {
		if got := cells(tx, cell(day, "c"), cell(day, "b")); got != "[c:false/2 b:true/0]" {
			t.Errorf("later transaction: %s", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpenNoMigrateRefusesAnOlderDatabase: with NoMigrate (tally backup) a
// database older than the binary's schema is a usage error and is left at
// its version; a current one opens.
func TestOpenNoMigrateRefusesAnOlderDatabase(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	path := db.Path
	db.Close()
	old := store.SchemaVersion() - 1
	if _, err := sqlfile.Open(t, path).ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", old)); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(ctx, path, store.Options{NoMigrate: true})
	if err == nil || !strings.Contains(err.Error(), "does not migrate it") || tally.KindOf(err) != tally.KindUsage {
		t.Fatalf("older database: err = %v (kind %v), want a usage error saying it is not migrated", err, tally.KindOf(err))
	}
	var v int
	sqlfile.Open(t, path).QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	if v != old {
		t.Errorf("user_version = %d, want %d: the database was migrated", v, old)
	}
	if _, err := sqlfile.Open(t, path).ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", store.SchemaVersion())); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, path, store.Options{NoMigrate: true})
	if err != nil {
		t.Fatalf("current database: %v", err)
	}
	db.Close()
}
