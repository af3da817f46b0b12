package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/job"
)

func init() { register(newRollupCmd) }

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
