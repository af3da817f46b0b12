package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newScheduleCmd) }

// jobGrace is how long shutdown lets a running job finish before
// cancelling it (it then stops between requests; nothing is lost).
const jobGrace = 2 * time.Minute

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
	loc, err := time.LoadLocation(e.cfg.Rollup.Timezone)
	if err != nil {
		return usageErr(fmt.Errorf("rollup.timezone: %w", err))
	}
	// Check the job's configuration now rather than at 03:30.
	if _, err := uploadTargets(e.cfg, "", false); err != nil {
		return usageErr(err)
	}
	warnDSTClashes(e.log, e.cfg.Schedule.Cron, loc, e.wall())
	db, err := e.openIntakeDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	sched, err := newScheduler(e.cfg.Schedule.Cron, loc, e.log, func(jobCtx context.Context) {
		e.log.Info("scheduled run starting")
		res, err := e.runJob(jobCtx, db, 0)
		res.print(e, err)
		if err != nil {
			e.log.Error("scheduled run failed", "err", err)
		}
	})
	if err != nil {
		return usageErr(err)
	}
	srv, err := e.startIntakeServer(ctx, db)
	if err != nil {
		return err
	}
	next := sched.start()
	e.log.Info("schedule started", "cron", e.cfg.Schedule.Cron, "timezone", loc.String(), "next_run", next.Format(time.RFC3339))
	<-ctx.Done()
	e.log.Info("schedule stopping")
	serr := srv.shutdown()
	if sched.stop(jobGrace) {
		e.log.Warn("running job cancelled after the grace period; it resumes on the next run")
	}
	return serr
}
