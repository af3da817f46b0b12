package intake_test

import (
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
)

// TestOutOfRangeTimesCountOnTheDayReceived holds docs/SCHEMA.md's promise
// for intake_outcomes.day: an invalid, future or too_old event is counted
// on the day it was received, so a forged time cannot create rows for
// arbitrary days.
func TestOutOfRangeTimesCountOnTheDayReceived(t *testing.T) {
	f := newFixture(t, nil)
	f.consent(t, "v", true, testNow.Add(-400*24*time.Hour))
	for _, e := range []string{
		ev("f", "appointment_booked", "v", `,"time":"2031-05-05T12:00:00Z"`),                 // future
		ev("o", "appointment_booked", "v", `,"time":"2024-02-02T12:00:00Z"`),                 // too_old
		ev("i", "appointment_booked", "v", `,"time":"1999-12-31T12:00:00Z"`),                 // invalid: before 2000
		ev("u", "lab_result_viewed", "v", `,"time":"2031-06-06T12:00:00Z"`),                  // unmapped, and future
		ev("c", "appointment_booked", "v", `,"campaign":"=x","time":"2023-03-03T12:00:00Z"`), // bad campaign, and too old
	} {
		f.send(t, false, e)
	}
	rows, err := sqlfile.Open(t, f.db.Path).Query(`SELECT day, outcome, reason, count FROM intake_outcomes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	received := testNow.Format("2006-01-02")
	n := 0
	for rows.Next() {
		var day, outcome, reason string
		var c int
		if err := rows.Scan(&day, &outcome, &reason, &c); err != nil {
			t.Fatal(err)
		}
		n += c
		if day != received {
			t.Errorf("%s/%s counted on %s, want the day received %s", outcome, reason, day, received)
		}
	}
	if n != 5 {
		t.Errorf("%d outcomes counted, want 5", n)
	}
}
