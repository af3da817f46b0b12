package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// writeDB creates a migrated database with one audit entry and closes it.
func writeDB(t *testing.T, path string) {
	t.Helper()
	db, err := store.Open(t.Context(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(t.Context(), store.AuditRunConfig, map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func auditRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := store.Readers(db).QueryRowContext(t.Context(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// liveWriter opens path for writing until the test ends, with one audit
// entry committed and still in its -wal.
func liveWriter(t *testing.T, path string) *store.DB {
	t.Helper()
	w, err := store.Open(t.Context(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.AppendAudit(t.Context(), store.AuditRunConfig, map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	return w
}

// openReadOnly opens path read-only; an error fails the test.
func openReadOnly(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// unchanged fails the test if dir's listing is no longer before.
func unchanged(t *testing.T, dir, before string) {
	t.Helper()
	if after := storetest.DirState(t, dir); after != before {
		t.Errorf("%s changed:\n%s\nwant\n%s", dir, after, before)
	}
}

// readsRows opens path read-only and expects n audit rows and a stable
// read, with dir's listing unchanged afterwards.
func readsRows(t *testing.T, dir, path string, n int) {
	t.Helper()
	before := storetest.DirState(t, dir)
	db := openReadOnly(t, path)
	if got := auditRows(t, db); got != n {
		t.Errorf("%d audit rows, want %d", got, n)
	}
	if err := db.Stable(); err != nil {
		t.Errorf("Stable: %v", err)
	}
	db.Close()
	unchanged(t, dir, before)
}

func TestOpenReadOnlyRefusesWhatIsNotATallyDatabase(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	f, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exec(`CREATE TABLE notes (x); PRAGMA user_version = 3`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.WriteFile(filepath.Join(dir, "empty.db"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "text.db"), []byte(strings.Repeat("not sqlite\n", 100)), 0o600)
	for name, want := range map[string]string{
		"missing.db": "no such database: " + filepath.Join(dir, "missing.db"),
		"empty.db":   "not a tally database: the file is empty",
		"text.db":    "not a tally database",
		"foreign.db": "not a tally database: an SQLite file without tally's tables",
	} {
		before := storetest.DirState(t, dir)
		db, err := store.OpenReadOnly(ctx, filepath.Join(dir, name))
		if err == nil {
			db.Close()
			t.Errorf("%s: opened, want an error", name)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", name, err, want)
		}
		if after := storetest.DirState(t, dir); after != before {
			t.Errorf("%s: folder changed:\n%s\nwant\n%s", name, after, before)
		}
	}
}

func TestOpenReadOnlyDoesNotMigrate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	writeDB(t, path)
	w, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	old := store.SchemaVersion() - 1
	if _, err := w.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, old)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, err = store.OpenReadOnly(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "run a writing command") {
		t.Fatalf("older schema: err = %v, want a hint to run a writing command", err)
	}
	w, _ = sql.Open("sqlite", path)
	defer w.Close()
	var v int
	w.QueryRow(`PRAGMA user_version`).Scan(&v)
	if v != old {
		t.Errorf("user_version = %d after a read-only open, want %d (no migration)", v, old)
	}
}

func TestOpenReadOnlyWorksOnAReadOnlyCopyAndCreatesNothing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "tally.db")
	writeDB(t, path)
	os.Chmod(path, 0o444)
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	before := storetest.DirState(t, dir)
	db := openReadOnly(t, path)
	if n := auditRows(t, db); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
	if _, err := store.Writer(db).ExecContext(ctx, `DELETE FROM locks`); err == nil {
		t.Error("a write succeeded on a read-only open")
	}
	if err := db.Stable(); err != nil {
		t.Error(err)
	}
	db.Close()
	// Checked by listing, not by permissions: tests may run as root.
	unchanged(t, dir, before)
}

func TestOpenReadOnlyReadsALiveWriteAheadLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tally.db")
	liveWriter(t, path)
	readsRows(t, dir, path, 1) // the 1 still in -wal
}

func TestReadOnlyStableNoticesAWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tally.db")
	writeDB(t, path)
	db := openReadOnly(t, path)
	defer db.Close()
	writeDB(t, path) // a writer opens, commits and checkpoints on close
	if err := db.Stable(); !errors.Is(err, store.ErrChangedWhileRead) {
		t.Errorf("Stable after a write = %v, want ErrChangedWhileRead", err)
	}
}

func TestOpenReadOnlyRefusesANewerSchemaAndAnOrphanedLog(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	writeDB(t, newer)
	w, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	w.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, store.SchemaVersion()+1))
	w.Close()
	if _, err := store.OpenReadOnly(ctx, newer); err == nil || !strings.Contains(err.Error(), "upgrade tally") {
		t.Errorf("newer schema: err = %v, want upgrade tally", err)
	}

	// A -wal with changes but no -shm: refused, and no -shm created.
	orphan := filepath.Join(dir, "orphan.db")
	writeDB(t, orphan)
	if err := os.WriteFile(orphan+"-wal", []byte("changes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenReadOnly(ctx, orphan); err == nil || !strings.Contains(err.Error(), "-shm is missing") {
		t.Errorf("orphaned -wal: err = %v", err)
	}
	if _, err := os.Stat(orphan + "-shm"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("-shm created: %v", err)
	}
}

// TestOpenReadOnlyThroughASymlinkReadsTheLiveLog: a report command given a
// symlink to a live database (its -wal and -shm beside the target, not the
// link) reads what the writer committed, and creates nothing either side.
func TestOpenReadOnlyThroughASymlinkReadsTheLiveLog(t *testing.T) {
	ctx := t.Context()
	dir, linkDir := t.TempDir(), t.TempDir()
	path, link := filepath.Join(dir, "tally.db"), filepath.Join(linkDir, "link.db")
	w := liveWriter(t, path)
	if err := os.Symlink(path, link); err != nil {
		t.Skip(err)
	}
	beforeLink := storetest.DirState(t, linkDir)
	db := openReadOnly(t, link)
	if n := auditRows(t, db); n != 1 {
		t.Errorf("%d audit rows through the link, want the 1 still in the target's -wal", n)
	}
	if err := w.AppendAudit(ctx, store.AuditRunConfig, map[string]any{"n": 2}); err != nil {
		t.Fatal(err)
	}
	before := storetest.DirState(t, dir)
	if n := auditRows(t, db); n != 2 {
		t.Errorf("%d audit rows after a second commit, want 2", n)
	}
	if err := db.Stable(); err != nil {
		t.Errorf("Stable: %v", err)
	}
	db.Close()
	unchanged(t, dir, before)
	unchanged(t, linkDir, beforeLink)
}

// TestOpenReadOnlyWithLeftoverLogFiles: an empty -wal left behind (with or
// without its -shm) is read past, and nothing is created or changed.
func TestOpenReadOnlyWithLeftoverLogFiles(t *testing.T) {
	for _, leftovers := range [][]string{{"-wal"}, {"-wal", "-shm"}} {
		t.Run(strings.Join(leftovers, ""), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "tally.db")
			writeDB(t, path)
			for _, suffix := range leftovers {
				if err := os.WriteFile(path+suffix, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			readsRows(t, dir, path, 1)
		})
	}
}

// TestOpenReadOnlyOddPath: blanks and URI characters in the path (SQLite
// is given a file: URI) name the file itself, not query parameters.
func TestOpenReadOnlyOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?mode=rwc#x%20y")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "t a?lly#.db")
	writeDB(t, path)
	readsRows(t, dir, path, 1)
}
