package batch_test

import (
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// TestEventTimeIsLocalNoon: every synthetic conversion of a day is at the
// day's 12:00 local time (tally.Day.Noon), also on daylight-saving days,
// and a malformed day is refused.
func TestEventTimeIsLocalNoon(t *testing.T) {
	for _, tt := range []struct {
		zone string
		day  tally.Day
		noon string // UTC
	}{
		{"America/Santiago", "2026-09-06", "2026-09-06T15:00:00Z"},
		{"America/New_York", "2026-11-01", "2026-11-01T17:00:00Z"},
		{"UTC", "2026-11-01", "2026-11-01T12:00:00Z"},
	} {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		at, err := batch.EventTime(tt.day, loc)
		if err != nil || at.UTC().Format(time.RFC3339) != tt.noon {
			t.Errorf("%s %s: EventTime %s (%v), want %s", tt.zone, tt.day, at.UTC(), err, tt.noon)
		}
	}
	if _, err := batch.EventTime("2026-11-1", time.UTC); err == nil {
		t.Error("EventTime accepted a malformed day")
	}
}
