// Package store owns tally's SQLite file: connections, pragmas, embedded
// schema migrations and the SQL that every other package runs through it.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver

	"github.com/tally-health/tally"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// TimeFormat is how every time is stored: RFC 3339, UTC, milliseconds, so
// text comparison orders times correctly.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders t for storage. Never bind a time.Time directly: the
// driver would write its monotonic clock reading.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime reads a stored time.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeFormat, s) }

// DB is an open tally database: one writer connection and a pool of readers
// (WAL lets readers run while the writer commits).
type DB struct {
	w    *sql.DB // the one writer connection
	r    *sql.DB // the readers
	Path string

	// Statements on the hot intake path, prepared once: parsing SQL per
	// event would cost more than running it.
	stmts hotStmts
	// consents caches visitors' consent histories for the intake writer.
	consents *consentCache
	// snapshot is set by OpenReadOnly when it opened the file immutable.
	snapshot *fileSnapshot
	// asOf is the --now instant the process runs as of, for audit rows
	// (audit.go SetAsOf); NULL when not given.
	asOf sql.NullString
	// fence is the lock whose holder every ledger write checks
	// (lock_fence.go); nil when none was fenced.
	fence atomic.Pointer[Lock]
}

// Options tunes Open.
type Options struct {
	// Synchronous is "normal" (default) or "full".
	Synchronous string
	// Readers is the size of the read pool (default 4).
	Readers int
	// WriterCacheMB is the writer connection's page cache (default 8).
	// Intake wants 64: it keeps the dedup and contribution indexes and the
	// consents in memory, where each evicted page costs a read per commit.
	WriterCacheMB int
	// NoMigrate refuses a database older than this binary's schema
	// instead of migrating it (a usage error): `tally backup` must copy
	// the file as the tally that wrote it left it.
	NoMigrate bool
}

// connKind selects the per-connection pragmas of a pool.
type connKind int

const (
	connWriter connKind = iota
	connReader
)

// busyTimeoutMS is how long a connection waits for another's lock.
const busyTimeoutMS = 10000

func dsn(path, sync string, kind connKind, cacheMB int) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+strings.ToUpper(sync)+")")
	q.Add("_pragma", "foreign_keys(ON)")
	// Overwrite all deleted content with zeros, freed pages included: a
	// sealed day's dropped contribution table must not linger in the free
	// list. FAST would zero only what costs no extra write, and leave
	// those pages as they were (see ScrubWAL for the WAL's copies).
	q.Add("_pragma", "secure_delete(ON)")
	switch kind {
	case connWriter:
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheMB*1024))
		q.Set("_txlock", "immediate")
		// WAL checkpoints stay SQLite's automatic ones (every ~4 MB, inside
		// a commit). Moving them to a background connection made intake's
		// p99 lower but starved a concurrent `tally run` of the write lock
		// (its runs took 20-50 s instead of 0.3-3 s under the soak load).
	case connReader:
		q.Add("_pragma", "cache_size(-8192)")
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) and migrates the database at path.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if opt.Synchronous == "" {
		opt.Synchronous = "normal"
	}
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	if opt.WriterCacheMB <= 0 {
		opt.WriterCacheMB = 8
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", dsn(path, opt.Synchronous, connWriter, opt.WriterCacheMB))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	db := &DB{w: w, Path: path, consents: newConsentCache()}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("store: open %s: journal_mode is %q, want wal", path, mode)
	}
	if err := migrate(ctx, w, path, !opt.NoMigrate); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, opt.Synchronous, connReader, 0))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open readers %s: %w", path, err)
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	db.r = r
	if err := db.stmts.prepare(ctx, w, r); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// createPrivate creates the database file with mode 0600 when it does not
// exist yet. SQLite creates -wal and -shm with the database file's mode, so
// all three stay private to tally's user whatever the umask; an existing
// file keeps the mode its operator gave it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	// The umask can only take bits away, but one like 0277 would leave a
	// file tally cannot write; set exactly 0600.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stmts.close()
	var err error
	if db.r != nil && db.r != db.w {
		err = db.r.Close()
	}
	if cerr := db.w.Close(); err == nil {
		err = cerr
	}
	return err
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// SchemaVersion is the number of migrations this binary knows.
func SchemaVersion() int { return len(migrationNames()) }

func migrationNames() []string {
	entries, err := migrationFS.ReadDir("migrations")
	if err != nil {
		panic(err) // embedded at build time; cannot fail
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// migrate applies the embedded migrations not yet applied, in one
// transaction. user_version is read inside it, so two processes opening a
// new file at once cannot both migrate.
func migrate(ctx context.Context, db *sql.DB, path string, allowed bool) error {
	names := migrationNames()
	// user_version N means "migrations 0001..N applied", so files must be
	// numbered without gaps: a missing number would make a later file run
	// twice once the gap is filled.
	for i, name := range names {
		if !strings.HasPrefix(name, fmt.Sprintf("%04d_", i+1)) {
			return fmt.Errorf("store: migration %s is out of sequence: want %04d_*.sql", name, i+1)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: begin: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("store: migrate: read user_version: %w", err)
	}
	if v > len(names) {
		return fmt.Errorf("store: database schema version %d is newer than this binary's %d; upgrade tally", v, len(names))
	}
	if v == len(names) {
		return nil
	}
	if !allowed {
		return tally.WithKind(tally.KindUsage, fmt.Errorf("store: %s has schema version %d, older than this binary's %d, and this command does not migrate it", path, v, len(names)))
	}
	for _, name := range names[v:] {
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(b)); err != nil {
			return fmt.Errorf("store: migrate %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(names))); err != nil {
		return fmt.Errorf("store: migrate: set user_version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: commit: %w", err)
	}
	return nil
}
