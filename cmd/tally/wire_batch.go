package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

// lockSleep pauses between attempts while --lock-wait runs; tests replace
// it so that they never wait.
var lockSleep func(ctx context.Context, d time.Duration) error

// lockWaitFlag adds --lock-wait to a command that takes the database lock.
func lockWaitFlag(cmd *cobra.Command, wait *time.Duration) {
	cmd.Flags().DurationVar(wait, "lock-wait", 0, "wait up to this long (e.g. 10m) for another tally process holding the database lock; 0 fails at once")
}

// lock is how a command takes the database lock, waiting up to wait.
func (e *env) lock(wait time.Duration) job.Lock {
	return job.Lock{Wait: wait, Sleep: lockSleep, Log: e.log}
}

// roller builds the rollup over db; a configuration error is exit 2.
func (e *env) roller(db *store.DB) (*batch.Roller, error) {
	return wire.Roller(db, e.cfg, e.now, e.wall)
}

// location is rollup.timezone.
func (e *env) location() (*time.Location, error) {
	return wire.Location(e.cfg)
}

// delivery is what sending needs besides the targets.
func (e *env) delivery() (job.Delivery, error) {
	loc, err := e.location()
	d := job.Delivery{Key: e.hashKey, Loc: loc, Now: e.now, Wall: windowClock(e), Log: e.log,
		Outbox: filepath.Join(filepath.Dir(e.cfg.Store.Path), "outbox")}
	if isTerminal(e.stderr) {
		d.Progress = e.stderr
	}
	return d, err
}

// runJob builds the run job over db and runs it. Bad configuration and a
// key that is not the database's are found before the lock is taken or
// anything is changed; every failed step is recorded in res.
func (e *env) runJob(ctx context.Context, db *store.DB, lockWait time.Duration) (res job.Result, err error) {
	targets, err := wire.Targets(e.cfg, "", false)
	if err != nil {
		return res, res.Fail("config", err)
	}
	roller, err := e.roller(db)
	if err != nil {
		return res, res.Fail("config", err)
	}
	// A key that is not the database's is found before anything is sealed.
	if _, err := e.hashKey(ctx, db); err != nil {
		return res, res.Fail("key", err)
	}
	delivery, err := e.delivery()
	if err != nil {
		return res, res.Fail("config", err)
	}
	effective, err := wire.Effective(e.cfg)
	if err != nil {
		return res, res.Fail("audit", err)
	}
	backups, err := e.backups()
	if err != nil {
		return res, res.Fail("config", err)
	}
	return job.Run{DB: db, Roller: roller, Targets: targets, Lock: e.lock(lockWait), Delivery: delivery, Log: e.log,
		Config: job.Effective{Version: currentBuild().Version, File: e.configFile, TOML: effective}, Retain: wire.Retention(e.cfg),
		Backups: backups,
	}.Do(ctx)
}

// backups is [backup]: off when backup.dir is empty. The folder must exist
// (a typo would otherwise make one): checked before the run starts.
func (e *env) backups() (job.Rotation, error) {
	r := job.Rotation{Dir: e.cfg.BackupDir(), Keep: e.cfg.Backup.Keep}
	if r.Dir == "" {
		return r, nil
	}
	if fi, err := os.Stat(r.Dir); err != nil || !fi.IsDir() {
		return r, configErr(fmt.Errorf("backup.dir: %s is not a directory; create it (readable by tally's user only) or leave backup.dir empty", r.Dir))
	}
	return r, nil
}

// jobMetrics are the batch job's series over db.
func (e *env) jobMetrics(db *store.DB, loc *time.Location) job.Metrics {
	return job.Metrics{DB: db, Loc: loc, Now: e.wall}
}

// writeJobMetrics writes the batch job's metrics over db to path.
func (e *env) writeJobMetrics(db *store.DB, path string) error {
	loc, err := e.location()
	if err != nil {
		return err
	}
	return e.jobMetrics(db, loc).WriteFile(path)
}

// windowClock returns the clock platform windows are judged by: the wall
// clock, whatever --now says. Test builds replace it so that their
// fixed-day fixtures keep working (wallclock_tallytest.go).
var windowClock = func(e *env) func() time.Time { return e.wall }

// followNow is the test builds' window clock: --now plus the real time
// elapsed since the clock was made, so it still advances.
func followNow(e *env) func() time.Time {
	start, base := time.Now(), e.now()
	return func() time.Time { return base.Add(time.Since(start)) }
}

// isTerminal reports whether w is a character device (a terminal), where
// a progress line helps; logs and pipes get none.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
