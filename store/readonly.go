package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// OpenReadOnly opens an existing tally database for reading only, for the
// report commands (audit, export). It runs no migration and creates no
// file: not the database, not its -wal or -shm.
//
// When no writer has the database open (no -wal and -shm) it is opened
// immutable: SQLite takes no locks and never creates
// -wal and -shm, which a plain read-only open of a WAL database does. A
// writer that starts meanwhile could change the file under the reader, so
// callers check Stable before trusting what they read. Otherwise -wal is
// read through the existing -shm with SQLite's normal locking; a -wal with
// changes but no -shm (a writer stopped uncleanly) is an error rather than
// a new file.
//
// The schema must be exactly the one this binary writes: an older file is
// migrated by any writing command first, a newer one needs a newer tally.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: no such database: %s", path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("store: %s is not a tally database: not a regular file", path)
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("store: %s is not a tally database: the file is empty", path)
	}
	// SQLite keeps -wal and -shm beside the file a symlink points at: look
	// for them there, and open that file, or a live database's log would be
	// missed (and the file read as it was at the last checkpoint).
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "query_only(1)")
	var snap *fileSnapshot
	walSize, hasWAL := fileSize(real + "-wal")
	_, hasSHM := fileSize(real + "-shm")
	switch {
	case hasWAL && hasSHM:
		// A writer has the file open, or left its log: read through -shm
		// with SQLite's locking, opening -shm read-only (never creating it).
		q.Set("readonly_shm", "1")
		q.Add("_pragma", "busy_timeout(10000)")
	case walSize > 0:
		return nil, fmt.Errorf("store: %s-wal holds changes but %s-shm is missing (a writer stopped uncleanly): "+
			"run a writing command such as `tally rollup` on the database once, then retry", path, path)
	default:
		q.Set("immutable", "1")
		snap = &fileSnapshot{info: fi}
	}
	r, err := sql.Open("sqlite", "file:"+(&url.URL{Path: real}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db := &DB{w: r, r: r, Path: real, snapshot: snap}
	if err := checkSchema(ctx, r, path); err != nil {
		r.Close()
		return nil, err
	}
	return db, nil
}

// checkSchema accepts only a database with tally's tables at this binary's
// schema version.
func checkSchema(ctx context.Context, r *sql.DB, path string) error {
	var v, tables int
	err := r.QueryRowContext(ctx, `SELECT (SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('days', 'events', 'audit_log'))`).Scan(&v, &tables)
	if err != nil {
		if strings.Contains(err.Error(), "not a database") {
			return fmt.Errorf("store: %s is not a tally database: not an SQLite file", path)
		}
		return fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	switch want := SchemaVersion(); {
	case v == 0 || tables < 3:
		return fmt.Errorf("store: %s is not a tally database: an SQLite file without tally's tables", path)
	case v < want:
		return fmt.Errorf("store: %s has schema version %d, older than this binary's %d, and a read-only command does not migrate: "+
			"run a writing command such as `tally rollup` on it first (or use the tally that wrote it)", path, v, want)
	case v > want:
		return fmt.Errorf("store: database schema version %d is newer than this binary's %d; upgrade tally", v, want)
	}
	return nil
}

// fileSize is the size of the file at path and whether it exists.
func fileSize(path string) (int64, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	return fi.Size(), true
}

// fileSnapshot is what an immutable open saw of the database file.
type fileSnapshot struct{ info fs.FileInfo }

// ErrChangedWhileRead means a writer changed the database while a
// read-only command was reading it immutable: what it read may be torn.
var ErrChangedWhileRead = errors.New("the database changed while it was read (a writing command ran); run the command again")

// Stable reports whether what was read can be trusted: for a database
// opened immutable, the file must be the same, unchanged, and still have no
// write-ahead log (a writer that opened it meanwhile creates one). Call it
// after reading, before reporting.
func (db *DB) Stable() error {
	if db.snapshot == nil {
		return nil
	}
	was := db.snapshot.info
	now, err := os.Stat(db.Path)
	if err != nil || !os.SameFile(was, now) || now.Size() != was.Size() || !now.ModTime().Equal(was.ModTime()) {
		return fmt.Errorf("store: %s: %w", db.Path, ErrChangedWhileRead)
	}
	if n, ok := fileSize(db.Path + "-wal"); ok && n > 0 {
		return fmt.Errorf("store: %s: %w", db.Path, ErrChangedWhileRead)
	}
	return nil
}
