package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/job"
)

func newRunCmd(g *globalOptions) *cobra.Command {
	var lockWait time.Duration
	var metricsFile string
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
With [backup] dir set, a successful run ends with a checked backup there
(see 'tally backup'), keeping the newest backup.keep.
--metrics-file PATH writes the batch job's metrics (those 'tally schedule'
serves on /metrics) to PATH in the Prometheus text format once the run
ends, for node_exporter's textfile collector: written to a temporary file
beside PATH, then renamed over it.
Exit 0 when everything is done, 1 when something failed (the output and
the log name the step; the uploads table says more), 2 on a configuration
or usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if metricsFile != "" {
				if err := job.CheckMetricsFile(metricsFile); err != nil {
					return err
				}
			}
			e, err := g.load()
			if err != nil {
				return err // no logger yet: the error line says it all
			}
			db, err := e.openDB(cmd.Context())
			if err != nil {
				var res job.Result
				res.Print(e.stdout, e.log, res.Fail("open", err))
				return err
			}
			defer db.Close()
			res, err := e.runJob(cmd.Context(), db, lockWait)
			if metricsFile != "" {
				if merr := e.writeJobMetrics(db, metricsFile); merr != nil {
					res.Fail("metrics", merr)
					if err == nil {
						err = merr
					}
				}
			}
			res.Print(e.stdout, e.log, err)
			return err
		},
	}
	lockWaitFlag(cmd, &lockWait)
	cmd.Flags().StringVar(&metricsFile, "metrics-file", "", "after the run, write the batch job's metrics to this file (Prometheus text format, for node_exporter's textfile collector)")
	return cmd
}

type rollupOptions struct {
	date, from, to string
	lockWait       time.Duration
}

func newRollupCmd(g *globalOptions) *cobra.Command {
	var opts rollupOptions
	cmd := &cobra.Command{
		Use:   "rollup [--date D | --from D --to D]",
		Short: "Seal due days, apply the release gate, and purge events past retention",
		Long: `Seal every due, unsealed day in order (a day is due once it has ended in
rollup.timezone plus rollup.close_after), or only the days named. Sealing is
final: a sealed day is never rolled up again. Afterwards the events of sealed
days older than store.retention_days are purged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := opts.days()
			if err != nil {
				return usageErr(err)
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return runRollup(cmd.Context(), e, from, to, opts.lockWait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.date, "date", "", "seal this day (YYYY-MM-DD)")
	f.StringVar(&opts.from, "from", "", "seal the days from this one (with --to)")
	f.StringVar(&opts.to, "to", "", "seal the days up to this one (with --from)")
	lockWaitFlag(cmd, &opts.lockWait)
	return cmd
}

// days resolves the flags to a range; none means every due day.
func (o rollupOptions) days() (from, to tally.Day, err error) {
	fromFlag, toFlag := "--from", "--to"
	switch {
	case o.date != "" && (o.from != "" || o.to != ""):
		return "", "", errors.New("rollup: --date and --from/--to exclude each other")
	case o.date != "":
		o.from, o.to, fromFlag, toFlag = o.date, o.date, "--date", "--date"
	case o.from == "" && o.to == "":
		return "", "", nil
	case o.from == "" || o.to == "":
		return "", "", errors.New("rollup: --from and --to go together")
	}
	if from, err = tally.ParseDay(o.from); err != nil {
		return "", "", fmt.Errorf("%s: %w", fromFlag, err)
	}
	if to, err = tally.ParseDay(o.to); err != nil {
		return "", "", fmt.Errorf("%s: %w", toFlag, err)
	}
	if from > to {
		return "", "", fmt.Errorf("rollup: --from %s is after --to %s", from, to)
	}
	return from, to, nil
}

func runRollup(ctx context.Context, e *env, from, to tally.Day, lockWait time.Duration) error {
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := e.roller(db)
	if err != nil {
		return err
	}
	return job.Rollup{DB: db, Roller: r, Lock: e.lock(lockWait), RetentionDays: e.cfg.Store.RetentionDays,
		Out: e.stdout, Log: e.log}.Do(ctx, from, to)
}

// uploadOptions are `tally upload`'s flags.
type uploadOptions struct {
	date     string
	platform string
	dryRun   bool
	lockWait time.Duration // --lock-wait
	// resendUncertain resends, once, GA4 conversions whose request had an
	// unknown outcome.
	resendUncertain bool
}

func newUploadCmd(g *globalOptions) *cobra.Command {
	var opts uploadOptions
	cmd := &cobra.Command{
		Use:   "upload [--date D] [--platform P] [--dry-run] [--resend-uncertain]",
		Short: "Send released, not yet acknowledged counts to the enabled platforms",
		Long: `Send each released cell of every enabled [uploaders.P] section as synthetic
conversions, resuming where an earlier run stopped. It never seals a day
(rollup or run does). With --dry-run (or dry_run in a section) the exact
request bodies are written to outbox/<platform>/ beside the database instead,
and no credential is needed.

GA4 does not deduplicate: a GA4 request whose outcome is unknown (a timeout
after the body was sent, a lost connection, a 5xx) is never resent on its
own; its conversions are "uncertain" in the uploads table. Check GA4's
reports, then --resend-uncertain sends each such request once more.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.date != "" {
				if _, err := tally.ParseDay(opts.date); err != nil {
					return usageErr(fmt.Errorf("--date: %w", err))
				}
			}
			if opts.resendUncertain && opts.dryRun {
				return usageErr(fmt.Errorf("--resend-uncertain sends for real; it cannot be combined with --dry-run"))
			}
			if opts.platform != "" && !slices.Contains(tally.UploadPlatforms, tally.Platform(opts.platform)) {
				return usageErr(fmt.Errorf("--platform: unknown platform %q (want %s)", opts.platform, platformList()))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return runUpload(cmd.Context(), e, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.date, "date", "", "only this day (YYYY-MM-DD)")
	f.StringVar(&opts.platform, "platform", "", "only this platform ("+platformList()+")")
	f.BoolVar(&opts.dryRun, "dry-run", false, "write request bodies to the outbox instead of sending")
	lockWaitFlag(cmd, &opts.lockWait)
	f.BoolVar(&opts.resendUncertain, "resend-uncertain", false, "send once more the GA4 conversions whose earlier request had an unknown outcome")
	return cmd
}

// runUpload delivers every enabled platform at once and prints a summary
// per platform. Missing credentials are found before anything is sent.
func runUpload(ctx context.Context, e *env, opts uploadOptions) error {
	targets, err := wire.Targets(e.cfg, tally.Platform(opts.platform), opts.dryRun)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		fmt.Fprintln(e.stdout, "no uploader enabled: set enabled = true in an [uploaders.<platform>] section")
		return nil
	}
	delivery, err := e.delivery()
	if err != nil {
		return err
	}
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return job.Upload{DB: db, Targets: targets, Lock: e.lock(opts.lockWait), Delivery: delivery,
		Day: tally.Day(opts.date), Resend: opts.resendUncertain, Out: e.stdout}.Do(ctx)
}

// platformList names the platforms that have an uploader, for messages.
func platformList() string {
	names := make([]string, len(tally.UploadPlatforms))
	for i, p := range tally.UploadPlatforms {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
