//go:build unix

package job

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/storetest"
)

// TestLockHeldIsAConflict: a live holder makes Take fail at once with a
// conflict (exit 1) that names the holder and how to remove its lock.
func TestLockHeldIsAConflict(t *testing.T) {
	db := storetest.Open(t)
	holdLock(t, db)
	release, err := Lock{Log: quiet}.Take(context.Background(), db, "upload")
	if err == nil {
		release()
		t.Fatal("took a lock another process holds")
	}
	if k := tally.KindOf(err); k != tally.KindConflict {
		t.Errorf("kind %v, want KindConflict", k)
	}
	for _, want := range []string{"upload: another tally process (" + LockOwner() + ",", "DELETE FROM locks WHERE name = 'run'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestLockWaitTakesTheFreedLock: with a wait, Take pauses (through the
// injected Sleep, never for real) and takes the lock once the holder lets
// go; released, the lock is free for the next command.
func TestLockWaitTakesTheFreedLock(t *testing.T) {
	db := storetest.Open(t)
	held := holdLock(t, db)
	var pauses int
	l := Lock{Wait: 10 * time.Minute, Log: quiet, Sleep: func(ctx context.Context, d time.Duration) error {
		pauses++
		return held.Release(ctx)
	}}
	release, err := l.Take(context.Background(), db, "run")
	if err != nil || pauses != 1 {
		t.Fatalf("take after one pause: %v (%d pauses)", err, pauses)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	release, err = Lock{Log: quiet}.Take(context.Background(), db, "run")
	if err != nil {
		t.Fatalf("lock not free after release: %v", err)
	}
	release()
}

// TestLockOwnerDead: only a holder on this host whose process is gone is
// dead (here a child that has exited and been reaped); another host, or an owner that does not parse, is presumed alive.
func TestLockOwnerDead(t *testing.T) {
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	host, _ := os.Hostname()
	tests := []struct {
		owner string
		dead  bool
	}{
		{LockOwner(), false},
		{fmt.Sprintf("%s/%d", host, gone.Process.Pid), true},
		{fmt.Sprintf("otherhost/%d", gone.Process.Pid), false},
		{host + "/notapid", false},
		{host + "/0", false},
		{"nohostpid", false},
	}
	for _, tt := range tests {
		if got := lockOwnerDead(tt.owner); got != tt.dead {
			t.Errorf("lockOwnerDead(%q) = %v, want %v", tt.owner, got, tt.dead)
		}
	}
}
