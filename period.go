package tally

import (
	"fmt"
	"time"
)

// Group is the period a report or an export sums released counts over. It
// wraps its Enum (rather than being an alias like Status) so it can have
// the Start method.
type Group struct{ Enum[groups] }

type groups struct{}

func (groups) name() string { return "group" }

// The periods.
var (
	GroupDay   = Group{define[groups]("day")}
	GroupWeek  = Group{define[groups]("week")}  // ISO week, Monday to Sunday
	GroupMonth = Group{define[groups]("month")} // calendar month
)

// ParseGroup checks s is a period: day, week or month.
func ParseGroup(s string) (Group, error) {
	e, err := parseEnum[groups](s)
	return Group{e}, err
}

// Start is the first day of the period d falls in: d itself for a day,
// the Monday of its ISO week, the first of its month.
func (g Group) Start(d Day) Day {
	switch g {
	case GroupWeek:
		// time.Weekday counts from Sunday = 0; an ISO week starts on Monday.
		back := (int(d.date().Weekday()) + 6) % 7
		return d.Add(-back)
	case GroupMonth:
		return d[:len("2006-01")] + "-01"
	}
	return d
}

// ParseFrom reads the first day of a range: YYYY-MM-DD, or YYYY-MM for
// the first day of that month.
func ParseFrom(s string) (Day, error) {
	if m, ok := parseMonth(s); ok {
		return Day(m.Format(time.DateOnly)), nil
	}
	return parseBound(s)
}

// ParseTo reads the last day of a range (inclusive): YYYY-MM-DD, or
// YYYY-MM for the last day of that month.
func ParseTo(s string) (Day, error) {
	if m, ok := parseMonth(s); ok {
		return Day(m.AddDate(0, 1, -1).Format(time.DateOnly)), nil
	}
	return parseBound(s)
}

// parseMonth reads YYYY-MM as its first day.
func parseMonth(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01", s)
	return t, err == nil && t.Format("2006-01") == s
}

func parseBound(s string) (Day, error) {
	d, err := ParseDay(s)
	if err != nil {
		return "", fmt.Errorf("bad day %q: want YYYY-MM-DD or YYYY-MM", s)
	}
	return d, nil
}
