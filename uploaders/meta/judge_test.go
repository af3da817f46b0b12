package meta_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// Meta counts what it took in events_received; fewer than were sent is not
// an acknowledgement of all. Meta deduplicates by event_name + event_id, so
// the engine resends the same request safely.
func TestShortEventsReceivedIsResent(t *testing.T) {
	d := adapter().Deliver(t, 20, 3, func(n int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			received(t, w, 19)
			return
		}
		accept(t, w, c)
	})
	if s := d.Summary; s.Sent != 20 || s.Retries != 1 || s.Requests != 2 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	if reqs := d.Requests(t); len(reqs) != 2 || !strings.Contains(reqs[0].Error.String, "events_received 19 of 20 sent") {
		t.Errorf("ledger = %+v", reqs)
	}
	if calls := d.Calls(); string(calls[0].Body) != string(calls[1].Body) {
		t.Error("the resend must carry the same events")
	}
}

func TestShortEventsReceivedNeverAcknowledges(t *testing.T) {
	d := adapter().Deliver(t, 20, 3, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		received(t, w, 19)
	})
	if s := d.Summary; s.Sent != 0 || s.Failed != 20 || s.Requests != 3 || s.Err == nil {
		t.Fatalf("summary = %+v", s)
	}
	u := d.Upload(t)
	if u.State != tally.Failed || u.Acked != 0 || u.Rejected != 0 || !strings.Contains(u.LastError, "events_received 19 of 20 sent") {
		t.Errorf("upload = %+v", u)
	}
}

// An error body Meta's error object does not describe (no code, or not an
// object) is judged by its HTTP status (the conformance suite's permanent
// answers) and its message invents no code.
func TestErrorWithoutCodeNamesNone(t *testing.T) {
	for _, file := range []string{"error_string_400.json", "error_no_code_400.json"} {
		d := adapter().Deliver(t, 20, 1, uploadertest.Answer{Status: 400, File: file}.Always(t))
		if u := d.Upload(t); u.LastError == "" || strings.Contains(u.LastError, "code 0") {
			t.Errorf("%s: last_error = %q", file, u.LastError)
		}
	}
}
