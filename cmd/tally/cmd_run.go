package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

func init() { register(newRunCmd) }

func newRunCmd(g *globalOptions) *cobra.Command {
	var lockWait time.Duration
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The cron job: seal every due day, upload everything pending, purge past retention",
		Long: `Seal every due, unsealed day (catching up days missed while the machine
was down), upload every released cell not yet acknowledged to the enabled
platforms, and purge events of sealed days past store.retention_days,
upload ledger bodies past store.ledger_retention_days and consent histories
past store.consent_retention_days. The log ends with the audit chain's head
(audit_head=ID:HASH): keep it to check the file later with
'tally audit verify --head'.
Only one of run, upload and rollup acts on a database at a time (a lock
held in SQLite; --lock-wait waits for it).
Exit 0 when everything is done, 1 when something failed (the output and
the log name the step; the uploads table says more), 2 on a configuration
or usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.load()
			if err != nil {
				return err // no logger yet: the error line says it all
			}
			db, err := e.openDB(cmd.Context())
			if err != nil {
				var res jobResult
				res.print(e, res.fail("open", err))
				return err
			}
			defer db.Close()
			res, err := e.runJob(cmd.Context(), db, lockWait)
			res.print(e, err)
			return err
		},
	}
	lockWaitFlag(cmd, &lockWait)
	return cmd
}

// jobResult is what one run did.
type jobResult struct {
	sealed     []batch.Sealed
	lastDue    tally.Day
	rolled     bool // the rollup step ran
	uploadStep bool // the upload step was reached
	uploads    []batch.Summary
	outbox     string
	purged     batch.Purged
	failed     []stepFailure
	took       time.Duration
}

// stepFailure is one step of a run that failed, and why.
type stepFailure struct{ step, why string }

// fail records a failed step.
func (r *jobResult) fail(step string, err error) error {
	r.failed = append(r.failed, stepFailure{step, err.Error()})
	return err
}

// runJob is the work of `tally run`, shared with `tally schedule`. Bad
// configuration is found before the lock is taken or anything is changed.
// Every failed step is recorded in res, whatever err says.
func (e *env) runJob(ctx context.Context, db *store.DB, lockWait time.Duration) (res jobResult, err error) {
	start := time.Now()
	defer func() { res.took = time.Since(start) }()
	targets, err := uploadTargets(e.cfg, "", false)
	if err != nil {
		return res, res.fail("config", usageErr(err))
	}
	roller, err := newRoller(db, e.cfg, e.now)
	if err != nil {
		return res, res.fail("config", usageErr(err))
	}
	// A key that is not the database's is found before anything is sealed.
	if _, err := e.hashKey(ctx, db); err != nil {
		return res, res.fail("key", err)
	}
	roller.Wall = e.wall
	release, err := e.takeRunLock(ctx, db, "run", lockWait)
	if err != nil {
		return res, res.fail("lock", err)
	}
	defer e.logAuditHead(ctx, db)
	defer func() {
		if rerr := release(); rerr != nil && err == nil {
			err = res.fail("unlock", rerr)
		}
	}()
	var effective strings.Builder
	if err := toml.NewEncoder(&effective).Encode(e.cfg); err != nil {
		return res, res.fail("audit", fmt.Errorf("run: encode effective config: %w", err))
	}
	// The config holds no secrets (only the names of their variables).
	if err := db.AppendAudit(ctx, store.AuditRunConfig, map[string]any{
		"version": version, "config_file": e.configFile, "config_toml": effective.String(),
	}); err != nil {
		return res, res.fail("audit", err)
	}

	roller.OnSealed = e.logSealed
	res.lastDue = roller.LastDue()
	res.rolled = true
	res.sealed, err = roller.RollupDue(ctx)
	if err != nil {
		res.fail("rollup", err)
	}
	if len(targets) > 0 && ctx.Err() == nil {
		res.uploadStep = true
		res.uploads, res.outbox, err = e.deliver(ctx, db, targets, "")
		if err != nil {
			return res, res.fail("upload", err)
		}
		for _, s := range res.uploads {
			if s.Err != nil || s.Failed > 0 {
				res.fail("upload", fmt.Errorf("%s: %d failed (%v)", s.Platform, s.Failed, s.Err))
			}
		}
	} else if len(targets) == 0 {
		res.uploadStep = true
	}
	if ctx.Err() == nil {
		res.purged, err = batch.Purge(ctx, db, e.cfg.Store.RetentionDays, roller.Loc, e.now())
		if err != nil {
			res.fail("purge", err)
		}
		if err := e.pruneHistory(ctx, db); err != nil {
			res.fail("prune", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if len(res.failed) > 0 {
		f := res.failed[0]
		return res, failed("run: %d step(s) failed: %s: %s", len(res.failed), f.step, f.why)
	}
	return res, nil
}

// print writes the one-screen summary of what ran. The last line says
// "ok" only when every step succeeded; otherwise it and the log name the
// failed steps.
func (r jobResult) print(e *env, err error) {
	w := e.stdout
	if r.rolled {
		printSealed(w, r.sealed, r.lastDue)
	}
	if r.uploadStep {
		if r.uploads == nil {
			fmt.Fprintln(w, "upload: no uploader enabled")
		} else {
			printUploadSummary(w, r.uploads, r.outbox)
		}
	}
	if len(r.purged.Days) > 0 {
		fmt.Fprintf(w, "purged %d events of %d sealed days before %s (store.retention_days = %d)\n",
			r.purged.Events, len(r.purged.Days), r.purged.Cutoff, e.cfg.Store.RetentionDays)
	}
	took := r.took.Round(time.Millisecond)
	if len(r.failed) == 0 && err == nil {
		fmt.Fprintf(w, "run: ok in %s\n", took)
		e.log.Info("run finished", "status", "ok", "sealed_days", len(r.sealed), "took_ms", r.took.Milliseconds())
		return
	}
	var steps []string
	for _, f := range r.failed {
		fmt.Fprintf(w, "run: step %s failed: %s\n", f.step, f.why)
		e.log.Error("run step failed", "step", f.step, "err", f.why)
		if len(steps) == 0 || steps[len(steps)-1] != f.step {
			steps = append(steps, f.step)
		}
	}
	if len(r.failed) == 0 { // interrupted between steps
		fmt.Fprintf(w, "run: stopped (%v) in %s\n", err, took)
		e.log.Warn("run finished", "status", "stopped", "err", err, "sealed_days", len(r.sealed), "took_ms", r.took.Milliseconds())
		return
	}
	fmt.Fprintf(w, "run: %d step(s) failed (%s) in %s\n", len(r.failed), strings.Join(steps, ", "), took)
	e.log.Error("run finished", "status", "failed", "steps", strings.Join(steps, ","), "sealed_days", len(r.sealed), "took_ms", r.took.Milliseconds())
}
