package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/job"
)

func init() { register(newScheduleCmd) }

func newScheduleCmd(g *globalOptions) *cobra.Command {
	var listen string
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
			e, err := g.load()
			if err != nil {
				return err
			}
			if listen != "" {
				e.cfg.Intake.Listen = listen
			}
			return runSchedule(cmd.Context(), e)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "listen address (overrides intake.listen)")
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
		srv, err := e.startIntakeServer(ctx, db)
		if err != nil {
			return nil, err
		}
		return srv.Shutdown, nil
	})
}
