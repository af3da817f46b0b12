package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// LockHeldError reports a lock another holder still owns.
type LockHeldError struct {
	Name string
	// Holder is the owner as the holder recorded it (for example
	// "host/pid"), without its random suffix.
	Holder     string
	AcquiredAt string
	ExpiresAt  string
}

func (e *LockHeldError) Error() string {
	return fmt.Sprintf("lock %q is held by %s since %s (it expires at %s if that process died)", e.Name, e.Holder, e.AcquiredAt, e.ExpiresAt)
}

// Lock is a held lock.
type Lock struct {
	db     *DB
	name   string
	holder string
}

// LockOptions say who takes a lock and how to tell a dead holder.
type LockOptions struct {
	// Owner describes the taker (for example "host/pid"); a random
	// suffix makes each holder unique.
	Owner string
	// Dead, when set, reports whether the process that wrote owner is
	// gone; an unexpired lock of a dead owner is taken over at once.
	Dead func(owner string) bool
}

// AcquireLock takes the named lock until now+ttl, or fails with a
// *LockHeldError when a live, unexpired holder has it.
func (db *DB) AcquireLock(ctx context.Context, name string, now time.Time, ttl time.Duration, opt LockOptions) (*Lock, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	l := &Lock{db: db, name: name, holder: opt.Owner + "/" + hex.EncodeToString(b)}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: begin: %w", name, err)
	}
	defer tx.Rollback()
	var holder, acquired, expires string
	err = tx.QueryRowContext(ctx, `SELECT holder, acquired_at, expires_at FROM locks WHERE name = ?`, name).Scan(&holder, &acquired, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	case expires > FormatTime(now) && (opt.Dead == nil || !opt.Dead(holderOwner(holder))):
		return nil, &LockHeldError{Name: name, Holder: holderOwner(holder), AcquiredAt: acquired, ExpiresAt: expires}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO locks (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
		name, l.holder, FormatTime(now), FormatTime(now.Add(ttl))); err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: lock %s: commit: %w", name, err)
	}
	return l, nil
}

// Renew extends the lock to now+ttl; it fails if the lock was taken over.
func (l *Lock) Renew(ctx context.Context, now time.Time, ttl time.Duration) error {
	res, err := l.db.w.ExecContext(ctx, `UPDATE locks SET expires_at = ? WHERE name = ? AND holder = ?`,
		FormatTime(now.Add(ttl)), l.name, l.holder)
	if err != nil {
		return fmt.Errorf("store: renew lock %s: %w", l.name, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: renew lock %s: lost to another process", l.name)
	}
	return nil
}

// Release gives the lock up (a no-op if it was taken over).
func (l *Lock) Release(ctx context.Context) error {
	l.db.fence.CompareAndSwap(l, nil)
	if _, err := l.db.w.ExecContext(ctx, `DELETE FROM locks WHERE name = ? AND holder = ?`, l.name, l.holder); err != nil {
		return fmt.Errorf("store: release lock %s: %w", l.name, err)
	}
	return nil
}

// holderOwner strips the random suffix from a holder.
func holderOwner(holder string) string {
	if i := strings.LastIndexByte(holder, '/'); i >= 0 {
		return holder[:i]
	}
	return holder
}
