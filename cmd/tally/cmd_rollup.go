package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
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

// days resolves the flags to a range; both empty means every due day.
func (o rollupOptions) days() (from, to tally.Day, err error) {
	switch {
	case o.date != "" && (o.from != "" || o.to != ""):
		return "", "", errors.New("rollup: --date and --from/--to exclude each other")
	case o.date != "":
		d, err := tally.ParseDay(o.date)
		return d, d, flagErr("--date", err)
	case o.from != "" || o.to != "":
		if o.from == "" || o.to == "" {
			return "", "", errors.New("rollup: --from and --to go together")
		}
		if from, err = tally.ParseDay(o.from); err != nil {
			return "", "", flagErr("--from", err)
		}
		if to, err = tally.ParseDay(o.to); err != nil {
			return "", "", flagErr("--to", err)
		}
		if from > to {
			return "", "", fmt.Errorf("rollup: --from %s is after --to %s", from, to)
		}
	}
	return from, to, nil
}

func flagErr(flag string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", flag, err)
}

func runRollup(ctx context.Context, e *env, from, to tally.Day, lockWait time.Duration) (err error) {
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := newRoller(db, e.cfg, e.now)
	if err != nil {
		return usageErr(err)
	}
	r.Wall = e.wall
	r.OnSealed = e.logSealed
	// Exclusive with run and upload: one process seals at a time.
	release, err := e.takeRunLock(ctx, db, "rollup", lockWait)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := release(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	var sealed []batch.Sealed
	if from == "" {
		sealed, err = r.RollupDue(ctx)
	} else {
		sealed, err = r.RollupRange(ctx, from, to)
	}
	printSealed(e.stdout, sealed, r.LastDue())
	if errors.Is(err, batch.ErrNotDue) || errors.Is(err, batch.ErrOutOfOrder) {
		return usageErr(err)
	}
	if err != nil {
		return err
	}
	// Retention runs after every rollup: it only ever deletes events of
	// sealed days past store.retention_days, whose counts are final.
	p, err := batch.Purge(ctx, db, e.cfg.Store.RetentionDays, r.Loc, e.now())
	if len(p.Days) > 0 {
		fmt.Fprintf(e.stdout, "purged %d events of %d sealed days before %s (store.retention_days = %d)\n",
			p.Events, len(p.Days), p.Cutoff, e.cfg.Store.RetentionDays)
		e.log.Info("events purged", "days", len(p.Days), "events", p.Events, "cutoff", string(p.Cutoff))
	}
	return err
}

// logSealed logs one day's seal as it commits.
func (e *env) logSealed(s batch.Sealed) {
	if !s.AlreadySealed {
		e.log.Info("day sealed", "day", s.Day, "events", s.Events, "released", s.Released,
			"held", s.Held, "suppressed", s.Suppressed, "min_count", s.Gate.MinCount,
			"small_counts", s.Gate.SmallCounts, "noise", s.Gate.Noise)
	}
}

func printSealed(w io.Writer, sealed []batch.Sealed, lastDue tally.Day) {
	if len(sealed) == 0 {
		fmt.Fprintf(w, "nothing to seal: every day up to %s (the last due day) is sealed or has no events\n", lastDue)
		return
	}
	for _, s := range sealed {
		if s.AlreadySealed {
			fmt.Fprintf(w, "%s already sealed at %s; nothing changed\n", s.Day, s.SealedAt)
			continue
		}
		if len(s.Rows) == 0 {
			fmt.Fprintf(w, "sealed %s: no events\n", s.Day)
			continue
		}
		held := fmt.Sprintf("%d held", s.Held)
		if s.Held > 0 {
			held += fmt.Sprintf(" (%d carried to %s)", s.HeldTotal, tally.Day(s.Day).Add(1))
		}
		fmt.Fprintf(w, "sealed %s: %d events in %d cells: %d released (%d conversions), %s, %d suppressed\n",
			s.Day, s.Events, len(s.Rows), s.Released, s.ReleasedTotal, held, s.Suppressed)
	}
}
