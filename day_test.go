package tally_test

import (
	"testing"
	"time"

	"github.com/tally-health/tally"
)

// TestDaysAreLocalDays: a day runs from its first local instant to the
// next day's, also where daylight saving starts at midnight and 00:00 does
// not exist (Santiago, Havana, Asunción: the day starts at 01:00), and its
// synthetic conversions are at 12:00 local time, never midnight + 12 h.
func TestDaysAreLocalDays(t *testing.T) {
	tests := []struct {
		zone       string
		day        tally.Day
		start, end string // UTC
		hours      float64
		noon       string // UTC
	}{
		{"America/Santiago", "2026-09-05", "2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z", 24, "2026-09-05T16:00:00Z"},
		{"America/Santiago", "2026-09-06", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", 23, "2026-09-06T15:00:00Z"},
		{"America/Santiago", "2026-04-04", "2026-04-04T03:00:00Z", "2026-04-05T04:00:00Z", 25, "2026-04-04T15:00:00Z"},
		{"America/Havana", "2026-03-07", "2026-03-07T05:00:00Z", "2026-03-08T05:00:00Z", 24, "2026-03-07T17:00:00Z"},
		{"America/Havana", "2026-03-08", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", 23, "2026-03-08T16:00:00Z"},
		{"America/Havana", "2026-11-01", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", 25, "2026-11-01T17:00:00Z"},
		{"America/Asuncion", "2024-10-06", "2024-10-06T04:00:00Z", "2024-10-07T03:00:00Z", 23, "2024-10-06T15:00:00Z"},
		{"America/Asuncion", "2024-03-23", "2024-03-23T03:00:00Z", "2024-03-24T04:00:00Z", 25, "2024-03-23T15:00:00Z"},
		{"America/New_York", "2026-03-08", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", 23, "2026-03-08T16:00:00Z"},
		{"America/New_York", "2026-11-01", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", 25, "2026-11-01T17:00:00Z"},
		{"UTC", "2026-11-01", "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", 24, "2026-11-01T12:00:00Z"},
	}
	for _, tt := range tests {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		start, end := tt.day.Bounds(loc)
		if got := start.UTC().Format(time.RFC3339); got != tt.start {
			t.Errorf("%s %s starts %s, want %s", tt.zone, tt.day, got, tt.start)
		}
		if got := end.UTC().Format(time.RFC3339); got != tt.end {
			t.Errorf("%s %s ends %s, want %s", tt.zone, tt.day, got, tt.end)
		}
		if h := end.Sub(start).Hours(); h != tt.hours {
			t.Errorf("%s %s lasts %gh, want %g", tt.zone, tt.day, h, tt.hours)
		}
		// The bounds agree with DayOf at both edges.
		if d := tally.DayOf(start, loc); d != tt.day {
			t.Errorf("%s: start %s falls on %s", tt.zone, start, d)
		}
		if d := tally.DayOf(start.Add(-time.Nanosecond), loc); d != tt.day.Add(-1) {
			t.Errorf("%s: just before start of %s falls on %s", tt.zone, tt.day, d)
		}
		if d := tally.DayOf(end.Add(-time.Nanosecond), loc); d != tt.day {
			t.Errorf("%s: just before end of %s falls on %s", tt.zone, tt.day, d)
		}
		noon := tt.day.Noon(loc)
		if got := noon.UTC().Format(time.RFC3339); got != tt.noon {
			t.Errorf("%s %s noon %s, want %s", tt.zone, tt.day, got, tt.noon)
		}
		if h, m, _ := noon.In(loc).Clock(); h != 12 || m != 0 {
			t.Errorf("%s %s noon is %02d:%02d local", tt.zone, tt.day, h, m)
		}
	}
}
