package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

// Rollup is `tally rollup`: seal days under the database lock, then purge
// the events past retention.
type Rollup struct {
	DB            *store.DB
	Roller        *batch.Roller
	Lock          Lock
	RetentionDays int // store.retention_days
	Out           io.Writer
	Log           *slog.Logger
}

// Do seals every due, unsealed day, or the days from..to when from is
// set, and prints what it sealed and purged. A day not due, or one whose
// predecessor is open, is a usage error.
func (r Rollup) Do(ctx context.Context, from, to tally.Day) (err error) {
	r.Roller.OnSealed = LogSealed(r.Log)
	// Exclusive with run and upload: one process seals at a time.
	release, err := r.Lock.Take(ctx, r.DB, "rollup")
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
		sealed, err = r.Roller.RollupDue(ctx)
	} else {
		sealed, err = r.Roller.RollupRange(ctx, from, to)
	}
	PrintSealed(r.Out, sealed, r.Roller.LastDue())
	if errors.Is(err, batch.ErrNotDue) || errors.Is(err, batch.ErrOutOfOrder) {
		return tally.WithKind(tally.KindUsage, err)
	}
	if err != nil {
		return err
	}
	// Retention runs after every rollup: it only ever deletes events of
	// sealed days past store.retention_days, whose counts are final.
	p, err := batch.Purge(ctx, r.DB, r.RetentionDays, r.Roller.Loc, r.Roller.Now())
	if len(p.Days) > 0 {
		printPurged(r.Out, p, r.RetentionDays)
		r.Log.Info("events purged", "days", len(p.Days), "events", p.Events, "cutoff", string(p.Cutoff))
	}
	return err
}

// LogSealed returns a Roller.OnSealed that logs each day's seal as it
// commits.
func LogSealed(log *slog.Logger) func(batch.Sealed) {
	return func(s batch.Sealed) {
		if !s.AlreadySealed {
			log.Info("day sealed", "day", s.Day, "events", s.Events, "released", s.Released,
				"held", s.Held, "suppressed", s.Suppressed, "min_count", s.Gate.MinCount,
				"small_counts", s.Gate.SmallCounts, "noise", s.Gate.Noise)
		}
	}
}

// PrintSealed writes one line per day sealed, or says that nothing was
// due up to lastDue.
func PrintSealed(w io.Writer, sealed []batch.Sealed, lastDue tally.Day) {
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

func printPurged(w io.Writer, p batch.Purged, retentionDays int) {
	fmt.Fprintf(w, "purged %d events of %d sealed days before %s (store.retention_days = %d)\n",
		p.Events, len(p.Days), p.Cutoff, retentionDays)
}
