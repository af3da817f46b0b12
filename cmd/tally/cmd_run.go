package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

func init() { register(newRunCmd) }

// Lock timing for `tally run`: the lock is renewed while the job works. A
// lock left by a killed run on this host is taken over at once; one left
// from another host expires after runLockTTL.
const (
	runLockName  = "run"
	runLockTTL   = 10 * time.Minute
	runLockRenew = time.Minute
)

func newRunCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "The cron job: seal every due day, upload everything pending, purge past retention",
		Long: `Seal every due, unsealed day (catching up days missed while the machine
was down), upload every released cell not yet acknowledged to the enabled
platforms, and purge events of sealed days past store.retention_days,
upload ledger bodies past store.ledger_retention_days and consent histories
past store.consent_retention_days. The log ends with the audit chain's head
(audit_head=ID:HASH): keep it to check the file later with
'tally audit verify --head'.
Only one run acts on a database at a time (a lock held in SQLite).
Exit 0 when everything is done, 1 when something failed (the log and the
uploads table say what), 2 on a configuration or usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, db, err := g.loadDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := e.runJob(cmd.Context(), db)
			res.print(e)
			return err
		},
	}
}

// jobResult is what one run did.
type jobResult struct {
	sealed  []batch.Sealed
	lastDue batch.Day
	uploads []batch.Summary
	outbox  string
	purged  batch.Purged
	failed  []string
	took    time.Duration
}

// runJob is the work of `tally run`, shared with `tally schedule`. Bad
// configuration is found before the lock is taken or anything is changed.
func (e *env) runJob(ctx context.Context, db *store.DB) (res jobResult, err error) {
	start := time.Now()
	defer func() { res.took = time.Since(start) }()
	targets, err := uploadTargets(e.cfg, "", false)
	if err != nil {
		return res, usageErr(err)
	}
	roller, err := batch.NewRoller(db, e.cfg, e.now)
	if err != nil {
		return res, usageErr(err)
	}
	// A key that is not the database's is found before anything is sealed.
	if _, err := e.hashKey(ctx, db); err != nil {
		return res, err
	}
	lock, err := db.AcquireLock(ctx, runLockName, time.Now(), runLockTTL, runLockOptions())
	var held *store.LockHeldError
	if errors.As(err, &held) {
		return res, failed("run: another tally run is working on %s: %v", db.Path, held)
	}
	if err != nil {
		return res, err
	}
	stopRenew := renewLock(ctx, e, lock)
	defer e.logAuditHead(ctx, db)
	defer func() {
		stopRenew()
		if rerr := lock.Release(context.WithoutCancel(ctx)); rerr != nil && err == nil {
			err = rerr
		}
	}()
	var effective strings.Builder
	if err := toml.NewEncoder(&effective).Encode(e.cfg); err != nil {
		return res, fmt.Errorf("run: encode effective config: %w", err)
	}
	// The config holds no secrets (only the names of their variables).
	if err := db.AppendAudit(ctx, e.now(), store.AuditRunConfig, map[string]any{
		"version": version, "config_file": e.configFile, "config_toml": effective.String(),
	}); err != nil {
		return res, err
	}

	roller.OnSealed = e.logSealed
	res.lastDue = roller.LastDue()
	res.sealed, err = roller.RollupDue(ctx)
	if err != nil {
		res.failed = append(res.failed, "rollup: "+err.Error())
		e.log.Error("rollup failed", "err", err)
	}
	if len(targets) > 0 && ctx.Err() == nil {
		res.uploads, res.outbox, err = e.deliver(ctx, db, targets, "")
		if err != nil {
			return res, err
		}
		for _, s := range res.uploads {
			if s.Err != nil || s.Failed > 0 {
				res.failed = append(res.failed, fmt.Sprintf("upload %s: %d failed (%v)", s.Platform, s.Failed, s.Err))
			}
		}
	}
	if ctx.Err() == nil {
		res.purged, err = batch.Purge(ctx, db, e.cfg.Store.RetentionDays, roller.Loc, e.now())
		if err != nil {
			res.failed = append(res.failed, "purge: "+err.Error())
			e.log.Error("purge failed", "err", err)
		}
		res.failed = append(res.failed, e.pruneHistory(ctx, db)...)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if len(res.failed) > 0 {
		return res, failed("run: %d step(s) failed: %s", len(res.failed), res.failed[0])
	}
	return res, nil
}

// renewLock keeps the run lock alive until the returned stop is called.
func renewLock(ctx context.Context, e *env, lock *store.Lock) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(runLockRenew)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lock.Renew(ctx, time.Now(), runLockTTL); err != nil {
					e.log.Error("run lock renewal failed", "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// print writes the one-screen summary.
func (r jobResult) print(e *env) {
	w := e.stdout
	printSealed(w, r.sealed, r.lastDue)
	if r.uploads == nil {
		fmt.Fprintln(w, "upload: no uploader enabled")
	} else {
		printUploadSummary(w, r.uploads, r.outbox)
	}
	if len(r.purged.Days) > 0 {
		fmt.Fprintf(w, "purged %d events of %d sealed days before %s (store.retention_days = %d)\n",
			r.purged.Events, len(r.purged.Days), r.purged.Cutoff, e.cfg.Store.RetentionDays)
	}
	status := "ok"
	if len(r.failed) > 0 {
		status = fmt.Sprintf("%d step(s) failed", len(r.failed))
	}
	fmt.Fprintf(w, "run: %s in %s\n", status, r.took.Round(time.Millisecond))
	e.log.Info("run finished", "status", status, "sealed_days", len(r.sealed), "took_ms", r.took.Milliseconds())
}
