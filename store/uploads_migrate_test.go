package store_test

import (
	"context"
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// The ledger migration rebuilds uploads for the partial and uncertain
// states: rows survive, a finished failed row with acknowledged
// conversions becomes partial, and the index is back.
func TestLedgerMigrationKeepsRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tally.db")
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	before := slices.IndexFunc(files, func(f string) bool { return strings.HasSuffix(f, "_ledger.sql") })
	if before < 0 {
		t.Fatal("no *_ledger.sql migration")
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files[:before] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	const ts = "2026-11-21T06:00:00.000Z"
	if _, err := raw.Exec(`PRAGMA user_version = `+strconv.Itoa(before)+`;
		INSERT INTO uploads (day, platform, campaign, conversion, count, next_index, acked, rejected, state, last_error, created_at, updated_at) VALUES
		('2026-11-20', 'meta', 'a', 'booking', 30, 30, 29, 1, 'failed', 'bad one', ?, ?),
		('2026-11-20', 'meta', 'b', 'booking', 12, 12, 0, 12, 'failed', 'all bad', ?, ?),
		('2026-11-20', 'meta', 'c', 'booking', 12, 12, 12, 0, 'sent', '', ?, ?)`, ts, ts, ts, ts, ts, ts); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]tally.State{}
	rows, err := sqlfile.Open(t, db.Path).Query(`SELECT campaign, state, uncertain FROM uploads ORDER BY campaign`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var s tally.State
		var n int
		if err := rows.Scan(&c, &s, &n); err != nil || n != 0 {
			t.Fatalf("row %s: %v, uncertain %d", c, err, n)
		}
		got[c] = s
	}
	if want := map[string]tally.State{"a": tally.Partial, "b": tally.Failed, "c": tally.Sent}; !maps.Equal(got, want) {
		t.Errorf("states = %v, want %v", got, want)
	}
	var idx int
	if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'uploads_by_platform'`).Scan(&idx); err != nil || idx != 1 {
		t.Errorf("uploads_by_platform index: %d, %v", idx, err)
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE uploads SET state = 'uncertain', uncertain = 1 WHERE campaign = 'c'`); err != nil {
		t.Errorf("the new state is refused: %v", err)
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE uploads SET state = 'lost' WHERE campaign = 'c'`); err == nil {
		t.Error("the CHECK constraint no longer holds")
	}
}
