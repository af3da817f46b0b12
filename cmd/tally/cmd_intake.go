package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/report"
	"github.com/tally-health/tally/snippet"
	"github.com/tally-health/tally/store"
)

// listenFlag adds --listen to cmd and returns how cmd loads its env, with
// the flag's address in place of intake.listen when given.
func listenFlag(g *globalOptions, cmd *cobra.Command) func() (*env, error) {
	var listen string
	cmd.Flags().StringVar(&listen, "listen", "", "listen address (overrides intake.listen)")
	return func() (*env, error) {
		e, err := g.load()
		if err == nil && listen != "" {
			e.cfg.Intake.Listen = listen
		}
		return e, err
	}
}

func newServeCmd(g *globalOptions) *cobra.Command {
	var load func() (*env, error)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP intake until SIGINT/SIGTERM, then drain and exit 0",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := load()
			if err != nil {
				return err
			}
			db, err := e.openIntakeDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			srv, err := e.startIntakeServer(cmd.Context(), db)
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			return srv.Shutdown()
		},
	}
	load = listenFlag(g, cmd)
	return cmd
}

func newScheduleCmd(g *globalOptions) *cobra.Command {
	var load func() (*env, error)
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run the intake server and the run job on [schedule] cron in one process",
		Long: `Serve the HTTP intake and run the same job as "tally run" on the cron
schedule in schedule.cron (in rollup.timezone). Overlapping runs are
skipped and a panicking job is recovered. SIGINT/SIGTERM stops accepting,
drains intake, lets a running job finish (up to 2 minutes, then cancels it
between requests) and exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := load()
			if err != nil {
				return err
			}
			return runSchedule(cmd.Context(), e)
		},
	}
	load = listenFlag(g, cmd)
	return cmd
}

func runSchedule(ctx context.Context, e *env) error {
	loc, err := e.location()
	if err != nil {
		return err
	}
	// Check the job's configuration now rather than at 03:30.
	if _, err := wire.Targets(e.cfg, "", false); err != nil {
		return err
	}
	spec, err := config.CronParser.Parse(e.cfg.Schedule.Cron)
	if err != nil {
		return configErr(fmt.Errorf("schedule.cron: %w", err))
	}
	job.WarnDSTClashes(e.log, e.cfg.Schedule.Cron, spec, loc, e.wall())
	db, err := e.openIntakeDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	run := func(ctx context.Context) (job.Result, error) { return e.runJob(ctx, db, 0) }
	sched := job.Schedule{Spec: e.cfg.Schedule.Cron, Cron: spec, Loc: loc, Out: e.stdout, Log: e.log}
	return sched.Run(ctx, run, func() (func() error, error) {
		srv, err := e.startIntakeServer(ctx, db, e.jobMetrics(db, loc))
		if err != nil {
			return nil, err
		}
		return srv.Shutdown, nil
	})
}

func newIngestCmd(g *globalOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ingest FILE...",
		Short: "Import events (NDJSON, or CSV with a header row; - for stdin) through the intake pipeline",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if format != "" && format != "ndjson" && format != "csv" {
				return usageErr(fmt.Errorf("--format: want ndjson or csv, got %q", format))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return e.withIntake(cmd.Context(), e.openIntakeDB, func(_ *store.DB, in *intake.Intake) error {
				sum, err := in.ImportEventFiles(cmd.Context(), files, e.openInput, intake.ImportOptions{Format: format, Errors: e.stderr})
				if err == nil {
					fmt.Fprintln(e.stdout, sum)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "ndjson or csv (default: csv for *.csv files, else ndjson)")
	return cmd
}

func newConsentCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Manage the consent registry",
	}
	var format string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import consent records (NDJSON, or CSV with a header row; - for stdin) from a consent-management or booking-system export",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "ndjson" && format != "csv" {
				return usageErr(fmt.Errorf("--format: want ndjson or csv, got %q", format))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return e.withIntake(cmd.Context(), e.openDB, func(db *store.DB, in *intake.Intake) error {
				r, err := e.openInput(args[0])
				if err != nil {
					return fmt.Errorf("consent import: %w", err)
				}
				defer r.Close()
				n, err := in.ImportConsents(cmd.Context(), db, r, intake.ImportOptions{Name: args[0], Format: format, Errors: e.stderr})
				fmt.Fprintf(e.stdout, "recorded %d, skipped %d (no %q purpose), invalid %d\n", n.Recorded, n.Skipped, e.cfg.Consent.Purpose, n.Invalid)
				if err != nil {
					return fmt.Errorf("consent import %s: %w", args[0], err)
				}
				return nil
			})
		},
	}
	imp.Flags().StringVar(&format, "format", "", "ndjson or csv (default: csv for *.csv files, else ndjson)")
	cmd.AddCommand(imp, newConsentLookupCmd(g), newConsentForgetCmd(g))
	return cmd
}

// newIntake wires the intake over db with the configured checks; close its Writer when done.
func (e *env) newIntake(ctx context.Context, db *store.DB) (*intake.Intake, error) {
	key, err := e.hashKey(ctx, db)
	if err != nil {
		return nil, err
	}
	loc, err := e.location()
	if err != nil {
		return nil, err
	}
	p, err := intake.NewPipeline(wire.IntakeOptions(e.cfg, key, loc))
	if err != nil {
		return nil, err
	}
	p.Now = e.now
	return intake.New(p, db, db.Path, intake.WriterOptions{Audit: db, Now: e.now, Log: e.log})
}

// withIntake opens the database with open and runs fn on it and its intake.
func (e *env) withIntake(ctx context.Context, open func(context.Context) (*store.DB, error), fn func(*store.DB, *intake.Intake) error) error {
	db, err := open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return err
	}
	defer in.Writer.Close()
	return fn(db, in)
}

// startIntakeServer serves the intake, the browser snippet and, when
// [report] enables it, the report over db on intake.listen; /metrics
// serves extra beside the intake's series.
func (e *env) startIntakeServer(ctx context.Context, db *store.DB, extra ...prometheus.Collector) (*intake.Listener, error) {
	// The report's token is checked before the intake starts its writer.
	rep, err := wire.ReportHandler(e.cfg, db, version, e.wall, e.log)
	if err != nil {
		return nil, err
	}
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := in.Metrics.Register(extra...); err != nil {
		in.Writer.Close()
		return nil, err
	}
	s := intake.NewServer(in, db, db, e.log)
	s.Extra = map[string]http.Handler{snippet.Path: snippet.Handler()}
	if rep != nil {
		s.Extra[report.Path] = rep
	}
	return s.Listen(e.cfg.Intake.Listen, db.Path)
}
