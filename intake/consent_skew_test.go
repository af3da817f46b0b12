package intake_test

import (
	"strings"
	"testing"
	"time"
)

// TestWithdrawalFromBehindClockIsNotHidden: a page whose clock runs far
// behind (a laptop that lost its time) stamps a withdrawal before the
// visitor's earlier grant. Ordered by that stamp alone, the grant would
// stay the latest record and every later event would be accepted: the
// refusal would be recorded and ignored. A browser's withdrawal is never
// ordered before a record already kept, so it holds from its arrival.
func TestWithdrawalFromBehindClockIsNotHidden(t *testing.T) {
	f := newFixture(t, nil)
	srv := newHTTP(t, f)
	consent := func(granted bool, at time.Time) {
		t.Helper()
		body := `{"visitor_id":"skewed","purposes":{"advertising":` + map[bool]string{true: "true", false: "false"}[granted] +
			`},"time":"` + at.UTC().Format(time.RFC3339Nano) + `"}`
		if resp, got := post(t, srv.URL+"/v1/consent", "text/plain", body); resp.StatusCode != 200 {
			t.Fatalf("consent %v at %s: %d %s", granted, at, resp.StatusCode, got)
		}
	}
	n := 0
	event := func() string {
		t.Helper()
		n++
		resp, got := post(t, srv.URL+"/v1/events", "text/plain", ev("e-skew-"+strings.Repeat("x", n), "appointment_booked", "skewed", ""))
		if resp.StatusCode != 200 {
			t.Fatalf("event: %d %s", resp.StatusCode, got)
		}
		return got
	}
	// The grant arrived a minute ago: within the few minutes a browser's
	// time may reach back, so the withdrawal's clamped time alone would
	// still fall before it.
	consent(true, testNow.Add(-time.Minute))
	if got := event(); !strings.Contains(got, `"accepted":1`) {
		t.Fatalf("event after the grant: %s, want accepted", got)
	}
	for i, behind := range []time.Duration{time.Hour, 365 * 24 * time.Hour} {
		consent(false, testNow.Add(-time.Minute-behind))
		if got := event(); !strings.Contains(got, `"no_consent":1`) {
			t.Errorf("withdrawal stamped %s before the grant, event after it: %s, want no_consent", behind, got)
		}
		consent(true, testNow.Add(time.Duration(i-3)*10*time.Second))
		if got := event(); strings.Contains(got, "no_consent") {
			t.Fatalf("event after a new grant: %s, want consent to hold (accepted, or over_bound for a second event)", got)
		}
	}

	// A grant stamped before a withdrawal already kept stays before it:
	// the refusal still holds (the race of TestConsentOrderedByClientTime).
	consent(false, testNow.Add(-time.Second))
	consent(true, testNow.Add(-2*time.Second))
	if got := event(); !strings.Contains(got, `"no_consent":1`) {
		t.Errorf("grant stamped before a kept withdrawal: %s, want no_consent", got)
	}
}

// TestBrowserGrantDoesNotReachBack: a grant sent to /v1/consent stamped
// days in the past (a page clock behind, or a script backdating it) does
// not make consented the events its visitor made before it arrived, such
// as a booking imported later with its own time: a browser's consent time
// reaches back at most a few minutes before its arrival.
func TestBrowserGrantDoesNotReachBack(t *testing.T) {
	f := newFixture(t, nil)
	srv := newHTTP(t, f)
	body := `{"visitor_id":"backdated","purposes":{"advertising":true},"time":"` + testNow.Add(-72*time.Hour).Format(time.RFC3339) + `"}`
	if resp, got := post(t, srv.URL+"/v1/consent", "text/plain", body); resp.StatusCode != 200 {
		t.Fatalf("consent: %d %s", resp.StatusCode, got)
	}
	old := ev("booked-2-days-ago", "appointment_booked", "backdated", `,"time":"`+testNow.Add(-48*time.Hour).Format(time.RFC3339)+`"`)
	if _, got := post(t, srv.URL+"/v1/events", "text/plain", old); !strings.Contains(got, `"no_consent":1`) {
		t.Errorf("event two days before the grant arrived: %s, want no_consent", got)
	}
	if _, got := post(t, srv.URL+"/v1/events", "text/plain", ev("booked-now", "appointment_booked", "backdated", "")); !strings.Contains(got, `"accepted":1`) {
		t.Errorf("event after the grant: %s, want accepted", got)
	}
}
