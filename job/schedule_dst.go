package job

import (
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// dstClash is a wall-clock time the cron schedule names on a day whose
// clocks skip it (a daylight-saving gap) or pass it twice (a repeat).
type dstClash struct {
	kind     string    // "gap" or "repeat"
	day      string    // the local date of the change
	from, to string    // the local wall times skipped or repeated, HH:MM
	at       time.Time // the change
}

// dstHorizon is how far ahead `tally schedule` looks for clashes.
const dstHorizon = 366 * 24 * time.Hour

// dstClashes lists each daylight-saving change in loc between from and
// from+horizon whose skipped or repeated wall times hold a time the
// schedule names. An @every schedule runs by elapsed time and never
// clashes.
func dstClashes(sched cron.Schedule, loc *time.Location, from time.Time, horizon time.Duration) []dstClash {
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil
	}
	// The same fields read in UTC, which has no daylight saving: Next
	// then answers which wall-clock times the schedule names.
	wall := *spec
	wall.Location = time.UTC
	var out []dstClash
	limit := from.Add(horizon)
	for t := from.In(loc); ; {
		_, change := t.ZoneBounds()
		if change.IsZero() || change.After(limit) {
			return out
		}
		_, before := change.Add(-time.Nanosecond).In(loc).Zone()
		_, after := change.In(loc).Zone()
		lo, hi := wallTime(change, before), wallTime(change, after) // a gap
		kind := "gap"
		if after < before {
			lo, hi, kind = hi, lo, "repeat"
		}
		if after != before {
			if next := wall.Next(lo.Add(-time.Second)); next.Before(hi) {
				out = append(out, dstClash{kind: kind, day: next.Format(time.DateOnly),
					from: lo.Format("15:04"), to: hi.Format("15:04"), at: change})
			}
		}
		t = change.In(loc)
	}
}

// wallTime is the wall clock reading of t at offset seconds east of UTC,
// as a UTC time (so it compares as a plain reading).
func wallTime(t time.Time, offset int) time.Time {
	return t.UTC().Add(time.Duration(offset) * time.Second)
}

// WarnDSTClashes logs a warning for each clash of sched (spec parsed) in
// the coming year: on that day a scheduled run may be skipped (gap) or run
// twice (repeat).
func WarnDSTClashes(log *slog.Logger, spec string, sched cron.Schedule, loc *time.Location, now time.Time) {
	for _, c := range dstClashes(sched, loc, now, dstHorizon) {
		msg := "schedule.cron names a time that daylight saving skips on that day: the run may not happen"
		if c.kind == "repeat" {
			msg = "schedule.cron names a time that daylight saving repeats on that day: the run may happen twice"
		}
		log.Warn(msg, "cron", spec, "timezone", loc.String(), "day", c.day,
			"dst_"+c.kind, c.from+"-"+c.to, "change_at", c.at.UTC().Format(time.RFC3339))
	}
}
