package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/privacy"
	"github.com/tally-health/tally/store"
)

// Errors of a rollup request that cannot be honoured as asked.
var (
	// ErrNotDue: the day has not ended plus rollup.close_after yet.
	ErrNotDue = errors.New("not due")
	// ErrOutOfOrder: an earlier day is still open. Days are sealed in
	// order because a held count is carried into the next day.
	ErrOutOfOrder = errors.New("earlier day not sealed")
)

// scrubWait bounds how long a rollup waits for other connections to let
// the WAL be truncated after sealing.
const scrubWait = 5 * time.Minute

// Roller seals due days and runs them through the release gate.
type Roller struct {
	DB         *store.DB
	Loc        *time.Location
	CloseAfter time.Duration
	Gate       Gate
	Now        func() time.Time
	// Wall is the system clock (nil: time.Now). Whatever Now says, no day
	// is due before it has ended by Wall: a clock set ahead must not seal
	// (and so purge) days that have not happened.
	Wall func() time.Time
	// OnSealed, when set, is called as each day's seal commits (a long
	// catch-up reports progress, and a crash test can kill at a known day).
	OnSealed func(Sealed)
}

// Sealed is what sealing one day did. It carries the gate parameters so
// the audit log can record each rollup with them.
type Sealed struct {
	store.SealResult
	Gate                       tally.GateParams
	Released, Held, Suppressed int   // cells by status
	ReleasedTotal, HeldTotal   int64 // conversions released / carried on
}

func summarise(res store.SealResult, g tally.GateParams) Sealed {
	s := Sealed{SealResult: res, Gate: g}
	for _, r := range res.Rows {
		switch r.Status {
		case tally.Released:
			s.Released++
			s.ReleasedTotal += r.ReleasedCount
		case tally.Held:
			s.Held++
			s.HeldTotal += r.Total
		case tally.Suppressed:
			s.Suppressed++
		}
	}
	return s
}

// LastDue is the latest day that is due now, and has ended by the wall
// clock.
func (r *Roller) LastDue() tally.Day {
	wall := time.Now
	if r.Wall != nil {
		wall = r.Wall
	}
	return min(tally.LastDue(r.Now(), r.Loc, r.CloseAfter), tally.LastEnded(wall(), r.Loc))
}

// Due lists every due, unsealed day in order, from the earliest day the
// store knows (days without events included: they are sealed too, so a
// count can be carried through them and late events are refused).
func (r *Roller) Due(ctx context.Context) ([]tally.Day, error) {
	known, err := r.DB.Days(ctx)
	if err != nil || len(known) == 0 {
		return nil, err
	}
	sealed := map[tally.Day]bool{}
	for _, k := range known {
		if k.SealedAt != "" {
			sealed[k.Day] = true
		}
	}
	first, err := tally.ParseDay(string(known[0].Day))
	if err != nil {
		return nil, fmt.Errorf("rollup: days table: %w", err)
	}
	var due []tally.Day
	for d, last := first, r.LastDue(); d <= last; d = d.Add(1) {
		if !sealed[d] {
			due = append(due, d)
		}
	}
	return due, nil
}

// RollupDue seals every due, unsealed day in order.
func (r *Roller) RollupDue(ctx context.Context) ([]Sealed, error) {
	due, err := r.Due(ctx)
	if err != nil {
		return nil, err
	}
	return r.seal(ctx, due)
}

// RollupRange seals the days from..to in order. Every day must be due and
// every known day before from already sealed; a day already sealed is
// left as it is and reported with AlreadySealed.
func (r *Roller) RollupRange(ctx context.Context, from, to tally.Day) ([]Sealed, error) {
	if from > to {
		return nil, fmt.Errorf("rollup: --from %s is after --to %s", from, to)
	}
	if last := r.LastDue(); to > last {
		if to <= tally.LastDue(r.Now(), r.Loc, r.CloseAfter) {
			return nil, fmt.Errorf("rollup: %s: %w: it has not ended by the system clock", to, ErrNotDue)
		}
		return nil, fmt.Errorf("rollup: %s: %w until %s (close_after %s)", to, ErrNotDue,
			store.FormatTime(to.DueAt(r.Loc, r.CloseAfter)), r.CloseAfter)
	}
	due, err := r.Due(ctx)
	if err != nil {
		return nil, err
	}
	if len(due) > 0 && due[0] < from {
		return nil, fmt.Errorf("rollup: %s: %w (days are sealed in order so held counts can be carried; run tally rollup without dates)", due[0], ErrOutOfOrder)
	}
	var days []tally.Day
	for d := from; d <= to; d = d.Add(1) {
		days = append(days, d)
	}
	return r.seal(ctx, days)
}

func (r *Roller) seal(ctx context.Context, days []tally.Day) ([]Sealed, error) {
	gate := func(_ context.Context, in store.SealInput) ([]store.DailyCount, error) { return r.Gate.Apply(in) }
	var out []Sealed
	for _, d := range days {
		res, err := r.DB.SealDay(ctx, d, r.Now(), r.note, gate)
		if err != nil {
			return out, err
		}
		s := summarise(res, r.Gate.GateParams)
		if r.OnSealed != nil {
			r.OnSealed(s)
		}
		out = append(out, s)
	}
	// The WAL still holds the sealed days' salts and contribution keys as
	// they were before the seal. Scrubbed on every run, not only when a
	// day was sealed now, so a run that failed after sealing is made good.
	// A reader that never lets go (an open sqlite3 shell transaction) must
	// not hang the run: after scrubWait it fails, and the next run retries.
	sctx, cancel := context.WithTimeout(ctx, scrubWait)
	defer cancel()
	if err := r.DB.ScrubWAL(sctx, nil); err != nil {
		return out, fmt.Errorf("rollup: remove sealed days from the WAL: %w", err)
	}
	return out, nil
}

// note is what a seal records beside its rows: the gate parameters for
// the audit entry, and the day's privacy receipt.
func (r *Roller) note(in store.SealInput) (map[string]any, *store.Receipt) {
	g := r.Gate.GateParams
	var events int64
	for _, c := range in.Raw {
		events += c.Raw
	}
	receipt := privacy.Receipt(g, in.VisitorBound, events)
	return map[string]any{"gate": map[string]any{"min_count": g.MinCount, "small_counts": g.SmallCounts,
		"carry_days": g.CarryDays, "noise": g.Noise, "epsilon": g.Epsilon.String()}}, &receipt
}
