package intake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
)

// TestConsentOrderedByClientTime: a visitor's records are ordered by the
// time the page stamped on them, not by arrival, so a withdrawal made after
// a grant wins even when the grant arrives last; a time ahead of the
// server's clock is clamped to now (never refused, and never a grant that
// starts after the event sent right after it); a withdrawal and a grant at
// the same instant leave the visitor withdrawn.
func TestConsentOrderedByClientTime(t *testing.T) {
	f := newFixture(t, nil)
	srv := newHTTP(t, f)
	consent := func(visitor string, granted bool, at time.Time) {
		t.Helper()
		body := `{"visitor_id":"` + visitor + `","purposes":{"advertising":` + map[bool]string{true: "true", false: "false"}[granted] +
			`},"time":"` + at.UTC().Format(time.RFC3339Nano) + `"}`
		if resp, got := post(t, srv.URL+"/v1/consent", "text/plain", body); resp.StatusCode != 200 || !strings.Contains(got, `"recorded":1`) {
			t.Fatalf("consent %s %v at %s: %d %s", visitor, granted, at, resp.StatusCode, got)
		}
	}
	event := func(visitor string) string {
		t.Helper()
		resp, got := post(t, srv.URL+"/v1/events", "text/plain", ev("e-"+visitor, "appointment_booked", visitor, ""))
		if resp.StatusCode != 200 {
			t.Fatalf("event: %d %s", resp.StatusCode, got)
		}
		return got
	}
	accepted := `"accepted":1`

	// The page granted, then withdrew 1 ms later; the withdrawal arrived
	// first.
	consent("race", false, testNow.Add(-time.Second+time.Millisecond))
	consent("race", true, testNow.Add(-time.Second))
	if got := event("race"); strings.Contains(got, accepted) {
		t.Errorf("grant arriving after a later withdrawal: %s, want no_consent", got)
	}

	// A page clock 2 minutes (and 1 year) ahead: the grant holds from now.
	consent("ahead", true, testNow.Add(2*time.Minute))
	if got := event("ahead"); !strings.Contains(got, accepted) {
		t.Errorf("grant stamped 2 minutes ahead, event right after: %s, want accepted", got)
	}
	consent("far", true, testNow.AddDate(1, 0, 0))
	if got := event("far"); !strings.Contains(got, accepted) {
		t.Errorf("grant stamped a year ahead, event right after: %s, want accepted", got)
	}
	var stored string
	if err := sqlfile.Open(t, f.db.Path).QueryRow(`SELECT max(time) FROM consents`).Scan(&stored); err != nil || stored != "2026-11-20T12:00:00.000Z" {
		t.Errorf("latest stored consent time %q (%v), want the server's now", stored, err)
	}

	// Both ahead of the server: both clamped to now; the withdrawal wins.
	consent("tie", true, testNow.Add(time.Minute))
	consent("tie", false, testNow.Add(time.Minute+time.Millisecond))
	if got := event("tie"); strings.Contains(got, accepted) {
		t.Errorf("grant and withdrawal at the same instant: %s, want no_consent", got)
	}
}
