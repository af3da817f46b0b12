package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

func TestLock(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)
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
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)
	if _, err := db.AcquireLock(ctx, "run", t0, time.Hour, store.LockOptions{Owner: "host/111"}); err != nil {
		t.Fatal(err)
	}
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
