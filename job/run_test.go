package job

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
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

// TestRollupOfADayNotDueIsUsage: asking to seal a day that is not due is
// the operator's mistake (exit 2), not a failure; nothing is sealed, the
// lock is free again, and the output says what was due.
func TestRollupOfADayNotDueIsUsage(t *testing.T) {
	db := storetest.Open(t)
	now := func() time.Time { return time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC) }
	r := &batch.Roller{DB: db, Loc: time.UTC, CloseAfter: 3 * time.Hour, Now: now, Wall: now}
	var out bytes.Buffer
	err := Rollup{DB: db, Roller: r, Lock: Lock{Log: quiet}, RetentionDays: 35, Out: &out, Log: quiet}.
		Do(context.Background(), "2026-11-02", "2026-11-02")
	if k := tally.KindOf(err); err == nil || k != tally.KindUsage {
		t.Fatalf("rollup of a day not due: %v (kind %v), want KindUsage", err, k)
	}
	if !strings.Contains(out.String(), "nothing to seal: every day up to 2026-11-01") {
		t.Errorf("output: %q", out.String())
	}
	release, err := Lock{Log: quiet}.Take(context.Background(), db, "run")
	if err != nil {
		t.Fatalf("lock still held after the rollup: %v", err)
	}
	release()
}

// TestRunEndsWithARecordAndABackup: a successful run with backups on ends
// with a checked backup in the folder (printed) and a run_end entry with
// status ok, which the job's status reads back as the last run and the
// last success.
func TestRunEndsWithARecordAndABackup(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := func() time.Time { return time.Date(2026, 11, 3, 4, 0, 0, 0, time.UTC) }
	r := &batch.Roller{DB: db, Loc: time.UTC, CloseAfter: 3 * time.Hour, Now: now, Wall: now}
	dir := t.TempDir()
	run := Run{DB: db, Roller: r, Lock: Lock{Log: quiet}, Log: quiet, Retain: Retention{Events: 35, Ledger: 400, Consents: 400},
		Backups: Rotation{Dir: dir, Keep: 1}}
	res, err := run.Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.Print(&out, quiet, err)
	if !strings.Contains(out.String(), "backup: "+dir+"/tally-") || !strings.Contains(out.String(), "run: ok") {
		t.Errorf("summary:\n%s", out.String())
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("backup folder holds %v, want one backup", names)
	}
	s, err := db.JobStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.LastRun == nil || s.LastOK == nil || s.LastRun.Status != store.RunOK || *s.LastRun != *s.LastOK {
		t.Errorf("last run %+v, last ok %+v, want one ok run", s.LastRun, s.LastOK)
	}
}

// TestRunFailsWhenItsBackupFails: a backup that cannot be written fails
// the run at step backup (exit 1, not a usage error), and its run_end
// entry says failed, naming the step.
func TestRunFailsWhenItsBackupFails(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := func() time.Time { return time.Date(2026, 11, 3, 4, 0, 0, 0, time.UTC) }
	r := &batch.Roller{DB: db, Loc: time.UTC, CloseAfter: 3 * time.Hour, Now: now, Wall: now}
	run := Run{DB: db, Roller: r, Lock: Lock{Log: quiet}, Log: quiet, Retain: Retention{Events: 35, Ledger: 400, Consents: 400},
		Backups: Rotation{Dir: filepath.Join(t.TempDir(), "removed"), Keep: 1}}
	res, err := run.Do(ctx)
	if err == nil || tally.KindOf(err) != tally.KindFailure {
		t.Fatalf("run with a missing backup folder: %v (kind %v), want a failure", err, tally.KindOf(err))
	}
	var out bytes.Buffer
	res.Print(&out, quiet, err)
	if !strings.Contains(out.String(), "run: step backup failed") {
		t.Errorf("summary:\n%s", out.String())
	}
	s, err := db.JobStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.LastRun == nil || s.LastRun.Status != store.RunFailed || s.LastOK != nil {
		t.Errorf("last run %+v, last ok %+v, want one failed run", s.LastRun, s.LastOK)
	}
}
