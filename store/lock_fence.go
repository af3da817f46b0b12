package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrLockLost is returned by a ledger write of a process whose lock was
// taken over (it stalled past the lock's expiry, or the row was edited).
var ErrLockLost = errors.New("the database lock was taken over by another process; stopped so that nothing is sent twice")

// Fence makes every later ledger write through l's DB (a request before it
// is sent, its answer, upload progress) check, inside its own transaction,
// that l still holds its lock. Renewal alone cannot keep a stalled process
// from writing and sending after another took the lock over: the check in
// the write's transaction orders the two, so a request recorded before the
// takeover is seen (unanswered) by the new holder, and none is recorded or
// sent after it.
func (l *Lock) Fence() { l.db.fence.Store(l) }

// checkFence fails with ErrLockLost when the fenced lock is no longer held
// by this process; it is a no-op when nothing was fenced.
func (db *DB) checkFence(ctx context.Context, tx *sql.Tx) error {
	l := db.fence.Load()
	if l == nil {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM locks WHERE name = ? AND holder = ?`, l.name, l.holder).Scan(&n); err != nil {
		return fmt.Errorf("store: check lock %s: %w", l.name, err)
	}
	if n != 1 {
		return fmt.Errorf("store: lock %s: %w", l.name, ErrLockLost)
	}
	return nil
}
