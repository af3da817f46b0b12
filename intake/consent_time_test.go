package intake_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
)

// postConsent posts visitor's advertising choice stamped at, with any
// further fields in extra, and returns the answer; any status but 200
// fails the test.
func postConsent(t *testing.T, url, visitor string, granted bool, at time.Time, extra string) string {
	t.Helper()
	body := `{"visitor_id":"` + visitor + `","purposes":{"advertising":` + strconv.FormatBool(granted) + `},"time":"` + at.UTC().Format(time.RFC3339Nano) + `"` + extra + `}`
	resp, got := post(t, url+"/v1/consent", "text/plain", body)
	if resp.StatusCode != 200 {
		t.Fatalf("consent %s %v at %s: %d %s", visitor, granted, at, resp.StatusCode, got)
	}
	return got
}

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
		if got := postConsent(t, srv.URL, visitor, granted, at, ""); !strings.Contains(got, `"recorded":1`) {
			t.Fatalf("consent %s %v at %s: %s", visitor, granted, at, got)
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

// TestWithdrawalFromBehindClockIsNotHidden: a page whose clock runs far
// behind (a laptop that lost its time) stamps a withdrawal before the
// visitor's earlier grant. Ordered by that stamp alone, the grant would
// stay the latest record and every later event would be accepted: the
// refusal would be recorded and ignored. A browser's withdrawal is never
// ordered before a record already kept, so it holds from its arrival.
func TestWithdrawalFromBehindClockIsNotHidden(t *testing.T) {
	f := newFixture(t, nil)
	srv := newHTTP(t, f)
	consent := func(granted bool, at time.Time) { t.Helper(); postConsent(t, srv.URL, "skewed", granted, at, "") }
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
	postConsent(t, srv.URL, "backdated", true, testNow.Add(-72*time.Hour), "")
	old := ev("booked-2-days-ago", "appointment_booked", "backdated", `,"time":"`+testNow.Add(-48*time.Hour).Format(time.RFC3339)+`"`)
	if _, got := post(t, srv.URL+"/v1/events", "text/plain", old); !strings.Contains(got, `"no_consent":1`) {
		t.Errorf("event two days before the grant arrived: %s, want no_consent", got)
	}
	if _, got := post(t, srv.URL+"/v1/events", "text/plain", ev("booked-now", "appointment_booked", "backdated", "")); !strings.Contains(got, `"accepted":1`) {
		t.Errorf("event after the grant: %s, want accepted", got)
	}
}

// TestConsentRepeatAnswersRecordedZero holds README's promise for
// POST /v1/consent: a record repeating the visitor's latest state (same
// grant, source and version) adds no row and says so ("recorded":0), and a
// change of mind is recorded. A page that reports the same choice on every
// load does not grow the consent history.
func TestConsentRepeatAnswersRecordedZero(t *testing.T) {
	f := newFixture(t, nil)
	srv := newHTTP(t, f)
	t0 := testNow.Add(-time.Hour)
	for i, s := range []struct {
		granted bool
		at      time.Time
		want    string
	}{
		{true, t0, `"recorded":1`},
		{true, t0.Add(time.Minute), `"recorded":0`},
		{true, t0.Add(2 * time.Minute), `"recorded":0`},
		{false, t0.Add(3 * time.Minute), `"recorded":1`},
		{false, t0.Add(4 * time.Minute), `"recorded":0`},
	} {
		if got := postConsent(t, srv.URL, "v-repeat", s.granted, s.at, `,"source":"cmp"`); !strings.Contains(got, s.want) {
			t.Errorf("step %d (%v): %s, want %s", i, s.granted, got, s.want)
		}
	}
	var rows int
	if err := sqlfile.Open(t, f.db.Path).QueryRow(`SELECT count(*) FROM consents`).Scan(&rows); err != nil || rows != 2 {
		t.Errorf("consents rows = %d (%v), want 2", rows, err)
	}
}
