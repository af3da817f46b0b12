package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// lockT0 is when the tests' locks are first taken.
var lockT0 = time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)

// heldLock opens a database whose "run" lock owner has held for an hour
// from lockT0.
func heldLock(t *testing.T, owner string) (*store.DB, *store.Lock) {
	t.Helper()
	db := storetest.Open(t)
	l, err := db.AcquireLock(t.Context(), "run", lockT0, time.Hour, store.LockOptions{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	return db, l
}

func TestLock(t *testing.T) {
	ctx := t.Context()
	db := storetest.Open(t)
	t0 := lockT0
	ttl := 10 * time.Minute
	a, err := db.AcquireLock(ctx, "run", t0, ttl, store.LockOptions{Owner: "a"})
	if err != nil {
		t.Fatal(err)
	}
	var held *store.LockHeldError
	if _, err := db.AcquireLock(ctx, "run", t0.Add(time.Minute), ttl, store.LockOptions{Owner: "b"}); !errors.As(err, &held) {
		t.Fatalf("second acquire: %v, want LockHeldError", err)
	}
	if err := a.Renew(ctx, t0.Add(9*time.Minute), ttl); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AcquireLock(ctx, "run", t0.Add(15*time.Minute), ttl, store.LockOptions{Owner: "b"}); !errors.As(err, &held) {
		t.Fatalf("acquire after renew: %v, want LockHeldError", err)
	}
	// The holder dies: after expiry another process takes over, and the
	// dead holder can no longer renew or release it.
	b, err := db.AcquireLock(ctx, "run", t0.Add(20*time.Minute), ttl, store.LockOptions{Owner: "b"})
	if err != nil {
		t.Fatalf("acquire after expiry: %v", err)
	}
	if err := a.Renew(ctx, t0.Add(21*time.Minute), ttl); err == nil {
		t.Error("a lost lock was renewed")
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AcquireLock(ctx, "run", t0.Add(21*time.Minute), ttl, store.LockOptions{Owner: "b"}); !errors.As(err, &held) {
		t.Error("a stale holder's release freed another's lock")
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AcquireLock(ctx, "run", t0.Add(21*time.Minute), ttl, store.LockOptions{Owner: "b"}); err != nil {
		t.Errorf("acquire after release: %v", err)
	}
}

func TestLockTakenOverFromDeadOwner(t *testing.T) {
	ctx := t.Context()
	db, _ := heldLock(t, "host/111")
	t0 := lockT0
	alive := func(string) bool { return false }
	var held *store.LockHeldError
	if _, err := db.AcquireLock(ctx, "run", t0, time.Hour, store.LockOptions{Owner: "host/222", Dead: alive}); !errors.As(err, &held) {
		t.Fatalf("live owner's lock: %v, want LockHeldError", err)
	}
	var asked string
	dead := func(owner string) bool { asked = owner; return true }
	if _, err := db.AcquireLock(ctx, "run", t0, time.Hour, store.LockOptions{Owner: "host/222", Dead: dead}); err != nil {
		t.Fatalf("dead owner's lock not taken over: %v", err)
	}
	if asked != "host/111" {
		t.Errorf("liveness asked about %q, want host/111", asked)
	}
}

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
	ctx := t.Context()
	db, _ := heldLock(t, "db-host/4242")
	// --lock-wait 0: one attempt, no pause.
	f := &fakeWait{now: lockT0}
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
	ctx := t.Context()
	db, a := heldLock(t, "db-host/4242")
	f := &fakeWait{now: lockT0, onNth: func(n int) {
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
	if _, err := db.AcquireLock(t.Context(), "run", t0, time.Hour, store.LockOptions{Owner: "db-host/4242"}); err != nil {
		t.Fatal(err)
	}
	// The real sleep, an hour's wait: cancelling as the wait begins ends
	// it at once (the test would hang otherwise).
	ctx, cancel := context.WithCancel(t.Context())
	w := store.LockWait{For: time.Hour, Every: time.Hour, OnWait: func(*store.LockHeldError) { cancel() }}
	if _, err := db.WaitLock(ctx, "run", time.Hour, store.LockOptions{Owner: "b"}, w); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v, want context.Canceled", err)
	}
}

// A process that stalled past its lock's expiry (or whose lock row was
// edited) and was taken over records and answers no request after the
// takeover: its writes fail with ErrLockLost and change nothing, so it
// stops before sending anything twice.
func TestFencedWritesStopAfterTakeover(t *testing.T) {
	ctx := t.Context()
	a := storetest.Open(t)
	b, err := store.Open(ctx, a.Path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t0 := lockT0
	lock, err := a.AcquireLock(ctx, "run", t0, 10*time.Minute, store.LockOptions{Owner: "host-a/1"})
	if err != nil {
		t.Fatal(err)
	}
	lock.Fence()
	req := func() *store.UploadRequest {
		return &store.UploadRequest{Platform: "google", Method: "POST", URL: "http://fake/google", Body: []byte(`{}`), Attempt: 1, SentAt: t0}
	}
	id, err := a.BeginUploadRequest(ctx, req(), nil)
	if err != nil {
		t.Fatalf("holder's request: %v", err)
	}

	// a stalls past the expiry; b takes the lock over.
	if _, err := b.AcquireLock(ctx, "run", t0.Add(11*time.Minute), 10*time.Minute, store.LockOptions{Owner: "host-b/2"}); err != nil {
		t.Fatal(err)
	}
	if err := a.FinishUploadRequest(ctx, id, &store.UploadResponse{Status: 204, ReceivedAt: t0}, nil); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("answer after the takeover: %v, want ErrLockLost", err)
	}
	if _, err := a.BeginUploadRequest(ctx, req(), nil); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("request after the takeover: %v, want ErrLockLost", err)
	}
	if err := a.SaveUploads(ctx, nil, t0); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("upload progress after the takeover: %v, want ErrLockLost", err)
	}
	rows, err := b.UploadRequests(ctx, "")
	if err != nil || len(rows) != 1 || rows[0].Status.Valid || rows[0].Error.Valid {
		t.Fatalf("requests = %+v, %v; want the one unanswered request", rows, err)
	}
	// The new holder, not fenced here, writes as usual.
	if _, err := b.BeginUploadRequest(ctx, req(), nil); err != nil {
		t.Errorf("new holder's request: %v", err)
	}
}
