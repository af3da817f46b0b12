package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// fakeWait is a clock that moves only when WaitLock sleeps.
type fakeWait struct {
	now    time.Time
	pauses []time.Duration
	onNth  func(n int) // called on each sleep, before the clock moves
}

func (f *fakeWait) wait(d time.Duration) store.LockWait {
	return store.LockWait{For: d, Every: time.Second, Now: func() time.Time { return f.now },
		Sleep: func(_ context.Context, p time.Duration) error {
			f.pauses = append(f.pauses, p)
			if f.onNth != nil {
				f.onNth(len(f.pauses))
			}
			f.now = f.now.Add(p)
			return nil
		}}
}

func TestWaitLockGivesUpNamingTheHolder(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)
	if _, err := db.AcquireLock(ctx, "run", t0, time.Hour, store.LockOptions{Owner: "db-host/4242"}); err != nil {
		t.Fatal(err)
	}
	// --lock-wait 0: one attempt, no pause.
	f := &fakeWait{now: t0}
	var held *store.LockHeldError
	if _, err := db.WaitLock(ctx, "run", time.Hour, store.LockOptions{Owner: "b"}, f.wait(0)); !errors.As(err, &held) || held.Holder != "db-host/4242" {
		t.Fatalf("no wait: %v, want LockHeldError naming db-host/4242", err)
	}
	if len(f.pauses) != 0 {
		t.Errorf("no wait paused %v", f.pauses)
	}
	// 2.5 s: pauses of 1 s, 1 s and the 0.5 s left, then gives up.
	w := f.wait(2500 * time.Millisecond)
	waits := 0
	w.OnWait = func(*store.LockHeldError) { waits++ }
	_, err := db.WaitLock(ctx, "run", time.Hour, store.LockOptions{Owner: "b"}, w)
	if !errors.As(err, &held) || held.Holder != "db-host/4242" {
		t.Fatalf("after waiting: %v, want LockHeldError naming db-host/4242", err)
	}
	want := []time.Duration{time.Second, time.Second, 500 * time.Millisecond}
	if len(f.pauses) != len(want) || f.pauses[0] != want[0] || f.pauses[1] != want[1] || f.pauses[2] != want[2] {
		t.Errorf("pauses %v, want %v", f.pauses, want)
	}
	if waits != 1 {
		t.Errorf("OnWait called %d times, want 1", waits)
	}
}

func TestWaitLockTakesTheLockOnceReleased(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)
	a, err := db.AcquireLock(ctx, "run", t0, time.Hour, store.LockOptions{Owner: "db-host/4242"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeWait{now: t0, onNth: func(n int) {
		if n == 2 {
			if err := a.Release(ctx); err != nil {
				t.Error(err)
			}
		}
	}}
	l, err := db.WaitLock(ctx, "run", time.Hour, store.LockOptions{Owner: "b"}, f.wait(time.Minute))
	if err != nil {
		t.Fatalf("lock released during the wait was not taken: %v", err)
	}
	if len(f.pauses) != 2 {
		t.Errorf("took the lock after %d pauses, want 2", len(f.pauses))
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWaitLockStopsWithContext(t *testing.T) {
	db := storetest.Open(t)
	t0 := time.Now()
	if _, err := db.AcquireLock(context.Background(), "run", t0, time.Hour, store.LockOptions{Owner: "db-host/4242"}); err != nil {
		t.Fatal(err)
	}
	// The real sleep, an hour's wait: cancelling as the wait begins ends
	// it at once (the test would hang otherwise).
	ctx, cancel := context.WithCancel(context.Background())
	w := store.LockWait{For: time.Hour, Every: time.Hour, OnWait: func(*store.LockHeldError) { cancel() }}
	if _, err := db.WaitLock(ctx, "run", time.Hour, store.LockOptions{Owner: "b"}, w); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v, want context.Canceled", err)
	}
}
