package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// The database lock: `tally run`, `upload` and `rollup` take the same one,
// so two processes never seal or send at the same time. It is renewed
// while the command works. A lock left by a killed process on this host is
// taken over at once; one left from another host expires after LockTTL.
const (
	LockName  = "run"
	LockTTL   = 10 * time.Minute
	lockRenew = time.Minute
)

// Lock is how a command takes the database lock.
type Lock struct {
	// Wait is how long to wait for another process holding the lock
	// (--lock-wait); 0 fails at once.
	Wait time.Duration
	// Sleep pauses between attempts while waiting; nil sleeps for real.
	// Tests replace it so that they never wait.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
}

// Take takes the database lock for the command named op, waiting up to
// l.Wait while another process holds it. A holder still there after the
// wait is a conflict (exit 1) naming it; nothing has been done then. The
// lock is renewed until release is called.
func (l Lock) Take(ctx context.Context, db *store.DB, op string) (release func() error, err error) {
	w := store.LockWait{For: l.Wait, Sleep: l.Sleep, OnWait: func(h *store.LockHeldError) {
		l.Log.Info("waiting for the database lock", "holder", h.Holder, "since", h.AcquiredAt, "lock_wait", l.Wait.String())
	}}
	lock, err := db.WaitLock(ctx, LockName, LockTTL, LockOptions(), w)
	var held *store.LockHeldError
	if errors.As(err, &held) {
		// Say when the lock frees itself and how to free it sooner: a lock
		// row from another host (or an edited one) may expire far ahead.
		return nil, tally.WithKind(tally.KindConflict, fmt.Errorf("%s: another tally process (%s, since %s) holds the lock on %s until %s unless it renews it; waited %s (--lock-wait); nothing was done. "+
			"If that process is gone, remove its lock: sqlite3 %s \"DELETE FROM locks WHERE name = '%s'\"",
			op, held.Holder, held.AcquiredAt, db.Path, held.ExpiresAt, l.Wait, db.Path, LockName))
	}
	if err != nil {
		return nil, err
	}
	lock.Fence() // a stalled process whose lock was taken over writes and sends nothing more
	stopRenew := l.renew(ctx, lock)
	return func() error {
		stopRenew()
		return lock.Release(context.WithoutCancel(ctx))
	}, nil
}

// renew keeps the lock alive until the returned stop is called.
func (l Lock) renew(ctx context.Context, lock *store.Lock) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(lockRenew)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lock.Renew(ctx, time.Now(), LockTTL); err != nil {
					l.Log.Error("database lock renewal failed", "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}
