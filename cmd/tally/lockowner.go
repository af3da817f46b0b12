package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/store"
)

// The database lock: `tally run`, `upload` and `rollup` take the same one,
// so two processes never seal or send at the same time. It is renewed
// while the command works. A lock left by a killed process on this host is
// taken over at once; one left from another host expires after runLockTTL.
const (
	runLockName  = "run"
	runLockTTL   = 10 * time.Minute
	runLockRenew = time.Minute
)

// lockSleep pauses between attempts while --lock-wait runs; tests replace
// it so that they never wait.
var lockSleep func(ctx context.Context, d time.Duration) error

// lockWaitFlag adds --lock-wait to a command that takes the database lock.
func lockWaitFlag(cmd *cobra.Command, wait *time.Duration) {
	cmd.Flags().DurationVar(wait, "lock-wait", 0, "wait up to this long (e.g. 10m) for another tally process holding the database lock; 0 fails at once")
}

// takeRunLock takes the database lock for the command named op, waiting up
// to wait while another process holds it. A holder still there after the
// wait is a failure (exit 1) naming it; nothing has been done then. The
// lock is renewed until release is called.
func (e *env) takeRunLock(ctx context.Context, db *store.DB, op string, wait time.Duration) (release func() error, err error) {
	w := store.LockWait{For: wait, Sleep: lockSleep, OnWait: func(h *store.LockHeldError) {
		e.log.Info("waiting for the database lock", "holder", h.Holder, "since", h.AcquiredAt, "lock_wait", wait.String())
	}}
	lock, err := db.WaitLock(ctx, runLockName, runLockTTL, runLockOptions(), w)
	var held *store.LockHeldError
	if errors.As(err, &held) {
		// Say when the lock frees itself and how to free it sooner: a lock
		// row from another host (or an edited one) may expire far ahead.
		return nil, failed("%s: another tally process (%s, since %s) holds the lock on %s until %s unless it renews it; waited %s (--lock-wait); nothing was done. "+
			"If that process is gone, remove its lock: sqlite3 %s \"DELETE FROM locks WHERE name = '%s'\"",
			op, held.Holder, held.AcquiredAt, db.Path, held.ExpiresAt, wait, db.Path, runLockName)
	}
	if err != nil {
		return nil, err
	}
	lock.Fence() // a stalled process whose lock was taken over writes and sends nothing more
	stopRenew := renewLock(ctx, e, lock)
	return func() error {
		stopRenew()
		return lock.Release(context.WithoutCancel(ctx))
	}, nil
}

// renewLock keeps the lock alive until the returned stop is called.
func renewLock(ctx context.Context, e *env, lock *store.Lock) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(runLockRenew)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lock.Renew(ctx, time.Now(), runLockTTL); err != nil {
					e.log.Error("database lock renewal failed", "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// runLockOptions identify this process as a lock holder ("host/pid"), and
// recognise a holder on this host whose process is gone (killed, crashed),
// so a rerun need not wait for the lock to expire.
func runLockOptions() store.LockOptions {
	return store.LockOptions{Owner: lockOwner(), Dead: lockOwnerDead}
}

func lockOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// lockOwnerDead reports whether owner names a process on this host that no
// longer exists. An owner on another host, or one it cannot parse, is
// presumed alive: only expiry frees its lock.
func lockOwnerDead(owner string) bool {
	host, pidText, ok := strings.Cut(owner, "/")
	me, _ := os.Hostname()
	if !ok || host != me {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	return processGone(pid)
}
