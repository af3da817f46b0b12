package job

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

// Run is `tally run`, and each run of `tally schedule`: seal every due
// day, upload everything pending, purge past retention, all under the
// database lock.
type Run struct {
	DB       *store.DB
	Roller   *batch.Roller
	Targets  []batch.Target
	Lock     Lock
	Delivery Delivery
	Config   Effective
	Retain   Retention
	// Backups, when Dir is set, takes a backup after each successful run
	// ([backup] dir and keep).
	Backups Rotation
	Log     *slog.Logger
}

// Effective is the configuration a run records in the audit log.
type Effective struct {
	Version string // the binary's
	File    string // the config file read ("" for the built-in defaults)
	// TOML is the effective configuration. It holds no secrets, only the
	// names of their variables.
	TOML string
}

// Retention is how many days each kind of record is kept
// (store.retention_days, ledger_retention_days, consent_retention_days).
type Retention struct{ Events, Ledger, Consents int }

// Do runs the job. Every failed step is recorded in res, whatever err
// says; a failed step does not stop the steps after it.
func (r Run) Do(ctx context.Context) (res Result, err error) {
	start := time.Now()
	defer func() { res.took = time.Since(start) }()
	res.retentionDays = r.Retain.Events
	release, err := r.Lock.Take(ctx, r.DB, "run")
	if err != nil {
		return res, res.Fail("lock", err)
	}
	defer logAuditHead(ctx, r.DB, r.Log)
	defer func() {
		if rerr := release(); rerr != nil && err == nil {
			err = res.Fail("unlock", rerr)
		}
	}()
	defer func() { r.recordEnd(ctx, res, err, time.Since(start)) }()
	if err := r.DB.AppendAudit(ctx, store.AuditRunConfig, map[string]any{
		"version": r.Config.Version, "config_file": r.Config.File, "config_toml": r.Config.TOML,
	}); err != nil {
		return res, res.Fail("audit", err)
	}

	r.Roller.OnSealed = LogSealed(r.Log)
	res.lastDue = r.Roller.LastDue()
	res.rolled = true
	res.sealed, err = r.Roller.RollupDue(ctx)
	if err != nil {
		res.Fail("rollup", err)
	}
	if len(r.Targets) > 0 && ctx.Err() == nil {
		res.uploadStep = true
		res.outbox = r.Delivery.Outbox
		res.uploads, err = r.Delivery.Send(ctx, r.DB, r.Targets, "", false)
		if err != nil {
			return res, res.Fail("upload", err)
		}
		for _, s := range res.uploads {
			if s.Err != nil || s.Failed > 0 {
				res.Fail("upload", fmt.Errorf("%s: %d failed (%v)", s.Platform, s.Failed, s.Err))
			}
		}
	} else if len(r.Targets) == 0 {
		res.uploadStep = true
	}
	if ctx.Err() == nil {
		res.purged, err = batch.Purge(ctx, r.DB, r.Retain.Events, r.Roller.Loc, r.Roller.Now())
		if err != nil {
			res.Fail("purge", err)
		}
		if err := r.pruneHistory(ctx); err != nil {
			res.Fail("prune", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if len(res.failed) == 0 && r.Backups.Dir != "" {
		b, err := Backup{DB: r.DB, Log: r.Log}.Rotate(ctx, r.Backups)
		if err != nil {
			res.Fail("backup", err)
		} else {
			res.backup = &b
		}
	}
	if len(res.failed) > 0 {
		f := res.failed[0]
		return res, fmt.Errorf("run: %d step(s) failed: %s: %s", len(res.failed), f.step, f.why)
	}
	return res, nil
}

// recordEnd writes the run's run_end audit entry, which the batch job's
// metrics read (the last run, the last successful one). A run that could
// not take the lock never gets here: it changed nothing.
func (r Run) recordEnd(ctx context.Context, res Result, err error, took time.Duration) {
	status := store.RunOK
	switch {
	case len(res.failed) > 0:
		status = store.RunFailed
	case err != nil:
		status = store.RunStopped
	}
	steps := []string{}
	for _, f := range res.failed {
		steps = append(steps, f.step)
	}
	if aerr := r.DB.AppendAudit(context.WithoutCancel(ctx), store.AuditRunEnd, map[string]any{
		"status": status, "took_ms": took.Milliseconds(), "failed_steps": steps,
	}); aerr != nil {
		r.Log.Error("run end not recorded in the audit log", "err", aerr)
	}
}

// pruneHistory is the run's second retention step: the upload ledger's
// bodies past store.ledger_retention_days and consent histories past
// store.consent_retention_days. It returns what failed, if anything.
func (r Run) pruneHistory(ctx context.Context) error {
	p, err := batch.PruneHistory(ctx, r.DB, r.Retain.Ledger, r.Retain.Consents, r.Roller.Now())
	if p.Ledger.Requests > 0 {
		r.Log.Info("upload ledger pruned", "requests", p.Ledger.Requests, "ledger_retention_days", r.Retain.Ledger)
	}
	if p.Consents.Visitors > 0 {
		r.Log.Info("consent history purged", "visitors", p.Consents.Visitors, "records", p.Consents.Records,
			"consent_retention_days", r.Retain.Consents)
	}
	return err
}

// logAuditHead logs the chain's head at the end of a run: shipped to a
// SIEM, these lines anchor the chain outside the file.
func logAuditHead(ctx context.Context, db *store.DB, log *slog.Logger) {
	a, ok, err := db.AuditHead(context.WithoutCancel(ctx))
	if err != nil {
		log.Error("audit head", "err", err)
		return
	}
	if ok {
		log.Info("audit head", "audit_head", a.String())
	}
}
