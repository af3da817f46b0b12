package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

// setWallClock makes the commands run in this test see the system clock
// at at (for a --now ahead of the real date, or a clock behind it).
func setWallClock(t *testing.T, at string) {
	t.Helper()
	w, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	old := wallClock
	wallClock = func() time.Time { return w }
	t.Cleanup(func() { wallClock = old })
}

// holdRunLock takes the database lock as this live process, the way a
// `tally run` in the middle of its upload holds it.
func holdRunLock(t *testing.T, dbPath string) (*store.DB, *store.Lock) {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lock, err := db.AcquireLock(context.Background(), job.LockName, time.Now(), time.Hour, job.LockOptions())
	if err != nil {
		t.Fatal(err)
	}
	return db, lock
}

func sealedDays(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM days WHERE sealed_at IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUploadAndRollupTakeTheRunLock: while another process holds the
// database lock, `tally upload` sends nothing and `tally rollup` seals
// nothing; both exit 1 naming the holder. With --lock-wait they wait for
// it (the pause is injected: the holder lets go during it) and then work.
func TestUploadAndRollupTakeTheRunLock(t *testing.T) {
	setWallClock(t, "2026-11-19T04:00:00Z")
	f := newFakePlatforms(t)
	cfg, dbPath := pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-17", "2026-11-18")
	// 2026-11-17 is sealed and released, not yet uploaded; 2026-11-18 is open.
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-18T04:00:00Z", "rollup"); code != 0 {
		t.Fatalf("rollup: %d\n%s\n%s", code, out, errOut)
	}
	db, lock := holdRunLock(t, dbPath)
	holder := job.LockOwner()

	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "upload")
	if code != exitFailure || !strings.Contains(errOut, "upload: another tally process ("+holder+",") {
		t.Errorf("upload under the lock: exit %d, want 1 naming %s\n%s\n%s", code, holder, out, errOut)
	}
	if n := f.total(); n != 0 {
		t.Errorf("upload under the lock sent %d requests, want 0", n)
	}
	code, out, errOut = runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "rollup")
	if code != exitFailure || !strings.Contains(errOut, "rollup: another tally process ("+holder+",") {
		t.Errorf("rollup under the lock: exit %d, want 1 naming %s\n%s\n%s", code, holder, out, errOut)
	}
	if n := sealedDays(t, db); n != 1 {
		t.Errorf("%d days sealed after a rollup under the lock, want 1", n)
	}

	// --lock-wait: the first pause is where the holder finishes.
	var pauses []time.Duration
	lockSleep = func(ctx context.Context, d time.Duration) error {
		pauses = append(pauses, d)
		if len(pauses) == 1 {
			return lock.Release(ctx)
		}
		return nil
	}
	t.Cleanup(func() { lockSleep = nil })
	code, out, errOut = runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "upload", "--lock-wait", "10m")
	if code != 0 || !strings.Contains(out, "meta: 12 sent") || len(pauses) != 1 || pauses[0] != store.LockPoll {
		t.Errorf("upload --lock-wait: exit %d, pauses %v\n%s\n%s", code, pauses, out, errOut)
	}
	if !strings.Contains(errOut, "waiting for the database lock") || !strings.Contains(errOut, holder) {
		t.Errorf("upload --lock-wait did not log its wait for %s:\n%s", holder, errOut)
	}
	if ids, repeats := f.distinct("meta"); ids != 12 || repeats != 0 {
		t.Errorf("fake Meta acknowledged %d ids (%d repeats), want 12", ids, repeats)
	}
	// The lock is free again: rollup seals the open day.
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "rollup", "--lock-wait", "1s"); code != 0 || !strings.Contains(out, "sealed 2026-11-18") {
		t.Errorf("rollup after the lock was freed: %d\n%s\n%s", code, out, errOut)
	}
}

// TestRunReportsTheFailedStep: whichever step fails, the summary and the
// log name it and never say "ok"; the exit codes stay 1 (runtime) and 2
// (configuration).
func TestRunReportsTheFailedStep(t *testing.T) {
	setWallClock(t, "2026-11-19T04:00:00Z")
	f := newFakePlatforms(t)
	cfg, dbPath := pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-18")
	db, lock := holdRunLock(t, dbPath)
	check := func(name string, wantCode int, wantOut, wantLog string) {
		t.Helper()
		code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "run")
		if code != wantCode || !strings.Contains(out, wantOut) || !strings.Contains(errOut, wantLog) {
			t.Errorf("%s: exit %d (want %d), want %q in stdout and %q in the log\n%s\n%s", name, code, wantCode, wantOut, wantLog, out, errOut)
		}
		if strings.Contains(out, "run: ok") || strings.Contains(errOut, "status=ok") {
			t.Errorf("%s: a failed run says ok:\n%s\n%s", name, out, errOut)
		}
		if strings.Contains(out, "nothing to seal") {
			t.Errorf("%s: reports a rollup that did not run:\n%s", name, out)
		}
	}
	check("lock held", exitFailure, "run: step lock failed: run: another tally process ("+job.LockOwner(), "step=lock")
	if err := lock.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TALLY_META_TOKEN", "")
	check("missing credential", exitUsage, "run: step config failed: config: uploaders.meta.access_token_env: environment variable TALLY_META_TOKEN is not set", "step=config")
	setSecrets(t)
	// A write that fails (as on a full disk): the run's audit entry.
	if _, err := sqlfile.Open(t, db.Path).Exec(`CREATE TRIGGER test_write_fails BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`); err != nil {
		t.Fatal(err)
	}
	check("write error", exitFailure, "run: step audit failed:", "step=audit")
	if n := sealedDays(t, db); n != 0 {
		t.Errorf("%d days sealed by failed runs", n)
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`DROP TRIGGER test_write_fails`); err != nil {
		t.Fatal(err)
	}
	// A database that cannot be opened (the path is a folder).
	code, out, errOut := runTally(t, "--config", cfg, "--db", t.TempDir(), "--now", "2026-11-19T04:00:00Z", "run")
	if code != exitFailure || !strings.Contains(out, "run: step open failed") || !strings.Contains(errOut, "step=open") || strings.Contains(out, "run: ok") {
		t.Errorf("unopenable database: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "run")
	if code != 0 || !strings.Contains(out, "\nrun: ok in ") || !strings.Contains(errOut, "status=ok") {
		t.Errorf("run after the faults: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestNowAheadOfTheSystemClockIsRefused: every command taking --now
// refuses one more than 24 hours ahead of the system clock (exit 2,
// nothing done), and a --now less far ahead still seals no day that has
// not ended by the system clock.
func TestNowAheadOfTheSystemClockIsRefused(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, dbPath := pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-17", "2026-11-18")
	events := write(t, t.TempDir()+"/more.ndjson", `{"event_id":"x","event":"appointment_booked","visitor_id":"v1","time":"2035-12-31T10:00:00Z","source":"facebook","campaign":"spring"}`+"\n")
	for _, args := range [][]string{{"rollup"}, {"run"}, {"upload"}, {"ingest", events}, {"consent", "import", events}, {"export"}, {"audit", "verify"}} {
		code, out, errOut := runTally(t, append([]string{"--config", cfg, "--now", "2036-01-01T00:00:00Z"}, args...)...)
		if code != exitUsage || !strings.Contains(errOut, "--now 2036-01-01T00:00:00Z is more than 24 hours after the system clock") {
			t.Errorf("%v --now 2036: exit %d, want 2\n%s\n%s", args, code, out, errOut)
		}
	}
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var evs int
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM events`).Scan(&evs)
	if n := sealedDays(t, db); n != 0 || evs != 24 || f.total() != 0 {
		t.Errorf("after refused commands: %d days sealed, %d events (want 24), %d requests", n, evs, f.total())
	}
	// 16 hours ahead is accepted, but 2026-11-18 has not ended by the
	// system clock: nothing is sealed past 2026-11-17.
	setWallClock(t, "2026-11-18T12:00:00Z")
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "rollup")
	if code != 0 || !strings.Contains(out, "sealed 2026-11-17") || strings.Contains(out, "2026-11-18") {
		t.Errorf("rollup 16h ahead: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "rollup", "--date", "2026-11-18"); code != exitUsage || !strings.Contains(errOut, "not ended by the system clock") {
		t.Errorf("rollup --date of a day not ended: exit %d %s", code, errOut)
	}
	if n := sealedDays(t, db); n != 1 {
		t.Errorf("%d days sealed, want 1", n)
	}
}
