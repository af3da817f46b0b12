package intake_test

import (
	"testing"
	"time"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/sqlfile"
)

// TestCheckOrder holds the order README and docs/SCHEMA.md promise for the
// drop reasons — gpc, no_consent, unmapped_event, bad_campaign, future,
// too_old, late, cell_limit, then event_id dedup, then over_bound — on
// events that fail two checks at once: each is counted under the earlier
// reason. TestOutcomes checks each reason alone.
func TestCheckOrder(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.MaxCellsPerDay = 1 })
	f.consent(t, "v", true, testNow.Add(-30*24*time.Hour))
	yesterday := `,"time":"2026-11-19T13:00:00Z"`
	steps := []struct {
		name, event, want string
		gpc               bool
	}{
		{"gpc before no_consent", ev("o1", "appointment_booked", "nobody", ""), "dropped/gpc", true},
		{"no_consent before unmapped_event", ev("o2", "lab_result_viewed", "nobody", ""), "dropped/no_consent", false},
		{"unmapped_event before bad_campaign", ev("o3", "lab_result_viewed", "v", `,"campaign":"jane@example.org"`), "dropped/unmapped_event", false},
		{"bad_campaign before future", ev("o4", "appointment_booked", "v", `,"campaign":"=1+1","time":"2026-11-21T12:00:00Z"`), "dropped/bad_campaign", false},
		{"bad_campaign before too_old", ev("o5", "appointment_booked", "v", `,"campaign":"=1+1","time":"2026-11-01T12:00:00Z"`), "dropped/bad_campaign", false},
		{"unmapped_event before future", ev("o6", "lab_result_viewed", "v", `,"time":"2026-11-21T12:00:00Z"`), "dropped/unmapped_event", false},
		// With max_cells_per_day = 1: open one cell on each of two days.
		{"opens the day's only cell", ev("a1", "appointment_booked", "v", `,"campaign":"a"`), "accepted", false},
		{"opens yesterday's only cell", ev("y1", "appointment_booked", "v", `,"campaign":"a"`+yesterday), "accepted", false},
		// An event id accepted today, sent again for a second cell: the
		// cell limit is decided before dedup, so it is never a duplicate.
		{"cell_limit before duplicate", ev("a1", "appointment_booked", "v", `,"campaign":"b"`), "dropped/cell_limit", false},
		{"an existing cell is never cell_limit", ev("a1", "appointment_booked", "v", `,"campaign":"a"`), "duplicate", false},
		{"over_bound in an existing cell", ev("a2", "appointment_booked", "v", `,"campaign":"a"`), "dropped/over_bound", false},
	}
	for _, s := range steps {
		if got := outcome(f.send(t, s.gpc, s.event)); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
	// Seal yesterday the way rollup records it, leaving its cell_counts row
	// in place: a new cell there would be over the limit, but late comes
	// first.
	if _, err := sqlfile.Open(t, f.db.Path).Exec(`UPDATE days SET salt = NULL, sealed_at = '2026-11-20T03:00:00.000Z' WHERE day = '2026-11-19'`); err != nil {
		t.Fatal(err)
	}
	if got := outcome(f.send(t, false, ev("y2", "appointment_booked", "v", `,"campaign":"b"`+yesterday))); got != "dropped/late" {
		t.Errorf("late before cell_limit: %s, want dropped/late", got)
	}
}
