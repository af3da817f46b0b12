package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/google"
	"github.com/tally-health/tally/uploaders/linkedin"
	"github.com/tally-health/tally/uploaders/meta"
	"github.com/tally-health/tally/uploaders/tiktok"
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
	r, err := newRoller(db, e.cfg, e.now)
	if err != nil {
		return nil, configErr(err)
	}
	r.Wall = e.wall
	return r, nil
}

// location is rollup.timezone.
func (e *env) location() (*time.Location, error) {
	loc, err := time.LoadLocation(e.cfg.Rollup.Timezone)
	if err != nil {
		return nil, configErr(fmt.Errorf("rollup.timezone: %w", err))
	}
	return loc, nil
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
	targets, err := uploadTargets(e.cfg, "", false)
	if err != nil {
		return res, res.Fail("config", configErr(err))
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
	var effective strings.Builder
	if err := toml.NewEncoder(&effective).Encode(e.cfg); err != nil {
		return res, res.Fail("audit", fmt.Errorf("run: encode effective config: %w", err))
	}
	s := e.cfg.Store
	return job.Run{DB: db, Roller: roller, Targets: targets, Lock: e.lock(lockWait), Delivery: delivery, Log: e.log,
		Config: job.Effective{Version: version, File: e.configFile, TOML: effective.String()},
		Retain: job.Retention{Events: s.RetentionDays, Ledger: s.LedgerRetentionDays, Consents: s.ConsentRetentionDays},
	}.Do(ctx)
}

// uploadTargets builds an uploader for every enabled platform (only
// platform when set). A real run needs each credential variable set; the
// first missing one is an error naming it.
func uploadTargets(cfg *config.Config, platform tally.Platform, dryRun bool) ([]batch.Target, error) {
	u := &cfg.Uploaders
	if platform != "" && !u.Delivery(platform).Enabled {
		return nil, fmt.Errorf("--platform %s: uploaders.%s.enabled is false", platform, platform)
	}
	// Where each platform's credential comes from: its key and variable.
	creds := map[tally.Platform][2]string{
		tally.PlatformMeta:     {"access_token_env", u.Meta.AccessTokenEnv},
		tally.PlatformGoogle:   {"api_secret_env", u.Google.APISecretEnv},
		tally.PlatformTikTok:   {"access_token_env", u.TikTok.AccessTokenEnv},
		tally.PlatformLinkedIn: {"access_token_env", u.LinkedIn.AccessTokenEnv},
	}
	var out []batch.Target
	for _, p := range tally.UploadPlatforms {
		d := u.Delivery(p)
		if !d.Enabled || (platform != "" && p != platform) {
			continue
		}
		dry := dryRun || d.DryRun
		var tok tally.Secret // a dry run never needs a credential
		if !dry {
			var err error
			if tok, err = config.EnvSecret("uploaders."+string(p)+"."+creds[p][0], creds[p][1]); err != nil {
				return nil, err
			}
		}
		var up batch.Uploader
		switch p {
		case tally.PlatformMeta:
			up = meta.New(meta.Config{Endpoint: d.Endpoint, APIVersion: u.Meta.APIVersion, DatasetID: u.Meta.DatasetID,
				ActionSource: u.Meta.ActionSource, TestEventCode: u.Meta.TestEventCode, Events: d.Events, Token: tok, Timeout: d.Timeout.D()})
		case tally.PlatformGoogle:
			up = google.New(google.Config{Endpoint: d.Endpoint, MeasurementID: u.Google.MeasurementID, Events: d.Events,
				Validate: u.Google.Validate, Secret: tok, Timeout: d.Timeout.D()})
		case tally.PlatformTikTok:
			up = tiktok.New(tiktok.Config{Endpoint: d.Endpoint, EventSource: u.TikTok.EventSource, EventSourceID: u.TikTok.EventSourceID,
				TestEventCode: u.TikTok.TestEventCode, Events: d.Events, Token: tok, Timeout: d.Timeout.D()})
		case tally.PlatformLinkedIn:
			up = linkedin.New(linkedin.Config{Endpoint: d.Endpoint, Version: u.LinkedIn.Version, Rules: u.LinkedIn.Rules, Token: tok, Timeout: d.Timeout.D()})
		}
		out = append(out, batch.Target{Uploader: up, MaxAttempts: d.MaxAttempts, Rate: d.Rate, DryRun: dry})
	}
	return out, nil
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
