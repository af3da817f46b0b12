package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LockPoll is how often WaitLock tries a held lock again by default.
const LockPoll = 500 * time.Millisecond

// LockWait says how long WaitLock waits for a held lock, and with which
// clock: tests inject Now and Sleep instead of waiting.
type LockWait struct {
	// For is the longest wait; 0 tries once.
	For time.Duration
	// Every is the pause between attempts (default LockPoll).
	Every time.Duration
	// Now is the wall clock (default time.Now).
	Now func() time.Time
	// Sleep pauses for d or until ctx ends (default a timer); it returns
	// ctx's error when ctx ended.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnWait, when set, is called once, when the first attempt finds the
	// lock held and a wait begins (a log line for the operator).
	OnWait func(*LockHeldError)
}

// WaitLock takes the named lock like AcquireLock. While a live holder has
// it, it tries again every w.Every until w.For has passed, then returns
// the last *LockHeldError. It pauses between attempts (it never spins)
// and gives up as soon as ctx ends.
func (db *DB) WaitLock(ctx context.Context, name string, ttl time.Duration, opt LockOptions, w LockWait) (*Lock, error) {
	now, sleep, every := w.Now, w.Sleep, w.Every
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	if every <= 0 {
		every = LockPoll
	}
	deadline := now().Add(w.For)
	for waited := false; ; waited = true {
		l, err := db.AcquireLock(ctx, name, now(), ttl, opt)
		var held *LockHeldError
		if !errors.As(err, &held) {
			return l, err
		}
		left := deadline.Sub(now())
		if left <= 0 {
			return nil, err
		}
		if !waited && w.OnWait != nil {
			w.OnWait(held)
		}
		if err := sleep(ctx, min(every, left)); err != nil {
			return nil, fmt.Errorf("store: lock %s: waiting for %s: %w", name, held.Holder, err)
		}
	}
}

// sleepCtx pauses for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
