package tally

import (
	"fmt"
	"time"
)

// Day is a calendar day, YYYY-MM-DD, in the rollup timezone.
type Day string

// ParseDay checks s is a YYYY-MM-DD date.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return "", fmt.Errorf("bad day %q: want YYYY-MM-DD", s)
	}
	return Day(s), nil
}

// DayOf returns the day t falls on in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	return Day(t.In(loc).Format(time.DateOnly))
}

// Add returns the day n calendar days later (earlier when n < 0).
func (d Day) Add(n int) Day {
	return Day(d.date().AddDate(0, 0, n).Format(time.DateOnly))
}

// date is the day as a time.Time (midnight UTC) for calendar arithmetic.
func (d Day) date() time.Time {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		panic(fmt.Sprintf("tally: bad day %q", d)) // Days come from ParseDay or DayOf
	}
	return t
}

// Bounds returns the instants the day starts and ends in loc: its first
// instant and the next day's. A day is 23 or 25 hours long across a
// daylight-saving change.
func (d Day) Bounds(loc *time.Location) (start, end time.Time) {
	return d.start(loc), d.Add(1).start(loc)
}

// start is the first instant of the day in loc. Usually that is its
// midnight; where daylight saving begins at midnight (America/Santiago,
// America/Havana, America/Asuncion) 00:00 does not exist, time.Date
// answers 23:00 of the day before, and the day starts when the clocks jump.
func (d Day) start(loc *time.Location) time.Time {
	y, m, dd := d.date().Date()
	t := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	if DayOf(t, loc) < d {
		_, t = t.ZoneBounds() // the jump: the first instant of d
	}
	return t
}

// Noon is the instant of 12:00 local time of the day in loc (not midnight
// plus 12 hours, which is 11:00 or 13:00 on a daylight-saving day).
func (d Day) Noon(loc *time.Location) time.Time {
	y, m, dd := d.date().Date()
	return time.Date(y, m, dd, 12, 0, 0, 0, loc)
}

// DueAt is the instant the day may be sealed: its end plus closeAfter.
func (d Day) DueAt(loc *time.Location, closeAfter time.Duration) time.Time {
	_, end := d.Bounds(loc)
	return end.Add(closeAfter)
}

// LastDue is the latest day that is due at now: every day up to it has
// ended at least closeAfter ago.
func LastDue(now time.Time, loc *time.Location, closeAfter time.Duration) Day {
	// A day D is due when start(D+1) <= now - closeAfter, that is when
	// D+1 is at or before the day that instant falls on.
	return DayOf(now.Add(-closeAfter), loc).Add(-1)
}

// LastEnded is the latest day that has ended at wall in loc.
func LastEnded(wall time.Time, loc *time.Location) Day {
	return DayOf(wall, loc).Add(-1)
}
