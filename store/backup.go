package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
)

// AuditBackup is the audit entry `tally backup` (or a run's backup step)
// writes once a backup has been checked and put in place.
const AuditBackup = "backup"

// VacuumInto writes a compacted copy of the database to path with SQLite's
// VACUUM INTO. The copy is one consistent snapshot (a read transaction),
// holds the WAL's committed changes but no WAL of its own, and is rebuilt
// page by page from live rows: freed pages (a sealed day's dropped
// contribution table, deleted salts) are not copied. path must not exist
// or be an empty file (os.CreateTemp's), which then keeps its mode.
//
// It runs on a read-only connection of its own, so the writer connection
// (intake in `tally schedule`) is never held while the copy is written.
func (db *DB) VacuumInto(ctx context.Context, path string) error {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	c, err := sql.Open("sqlite", "file:"+(&url.URL{Path: db.Path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("store: backup %s: %w", db.Path, err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("store: backup %s into %s: %w", db.Path, path, err)
	}
	return nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error naming
// the first problems it reports.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	problems, err := queryAll(ctx, db.r, func(rows *sql.Rows, line *string) error { return rows.Scan(line) }, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("store: integrity check of %s: %w", db.Path, err)
	}
	if len(problems) == 1 && problems[0] == "ok" {
		return nil
	}
	return fmt.Errorf("store: integrity check of %s failed: %s", db.Path, strings.Join(problems, "; "))
}
