package job

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/store/storetest"
)

// holdLock takes the database lock as this live process would in another
// command.
func holdLock(t *testing.T, db *store.DB) *store.Lock {
	t.Helper()
	lock, err := db.AcquireLock(context.Background(), LockName, time.Now(), time.Hour, LockOptions())
	if err != nil {
		t.Fatal(err)
	}
	return lock
}

// TestRunUnderAHeldLockDoesNothing: while another process holds the lock
// the run seals and audits nothing; its result names the lock step, the
// summary never says ok, and the error is a conflict (exit 1).
func TestRunUnderAHeldLockDoesNothing(t *testing.T) {
	db := storetest.Open(t)
	holdLock(t, db)
	now := func() time.Time { return time.Date(2026, 11, 3, 4, 0, 0, 0, time.UTC) }
	r := &batch.Roller{DB: db, Loc: time.UTC, CloseAfter: 3 * time.Hour, Now: now, Wall: now}
	res, err := Run{DB: db, Roller: r, Lock: Lock{Log: quiet}, Log: quiet}.Do(context.Background())
	if k := tally.KindOf(err); err == nil || k != tally.KindConflict {
		t.Fatalf("run under a held lock: %v (kind %v), want KindConflict", err, k)
	}
	var out bytes.Buffer
	res.Print(&out, quiet, err)
	if s := out.String(); !strings.Contains(s, "run: step lock failed: run: another tally process") || strings.Contains(s, "run: ok") ||
		strings.Contains(s, "nothing to seal") {
		t.Errorf("summary:\n%s", s)
	}
	if _, ok, err := db.AuditHead(context.Background()); err != nil || ok {
		t.Errorf("audit log written under a held lock (%v)", err)
	}
}
