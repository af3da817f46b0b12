package linkedin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-health/tally/uploaders/uploadertest"
)

// A conversion refused for naming no member stops the platform (the
// conformance suite's permanent answer) with a message that says why tally
// cannot fix it and what LinkedIn said.
func TestMissingUserIDIsNamed(t *testing.T) {
	a := adapter()
	d := a.Deliver(t, 40, 5, a.Permanent[0].Always(t))
	u := d.Upload(t)
	for _, want := range []string{"no user id", "synthetic external id", "At least one of userIds"} {
		if !strings.Contains(u.LastError, want) {
			t.Errorf("last_error = %q, want %q in it", u.LastError, want)
		}
	}
}

// An answer listing fewer elements than were sent does not say what became
// of the rest: the request is resent whole (LinkedIn counts an eventId once).
func TestFewerElementsThanSentIsNotAnAcknowledgement(t *testing.T) {
	d := adapter().Deliver(t, 20, 3, func(n int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			uploadertest.Canned(t, w, 200, "success.json") // three elements
			return
		}
		statuses(w, c.Body, "")
	})
	if s := d.Summary; s.Sent != 20 || s.Retries != 1 || s.Requests != 2 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	if reqs := d.Requests(t); !strings.Contains(reqs[0].Error.String, "3 elements for 20 sent") {
		t.Errorf("first request error = %q", reqs[0].Error.String)
	}
	answerElements(t, 19)
}

// An answer listing more elements than were sent is as unreadable as one
// listing fewer (docs/UPLOADERS.md: "fewer (or more)"): nothing is
// acknowledged, however many of its statuses say 201.
func TestMoreElementsThanSentIsNotAnAcknowledgement(t *testing.T) {
	answerElements(t, 21)
}

// answerElements answers every request of 20 conversions with n element
// statuses of 201: nothing is acknowledged, and the platform gives up.
func answerElements(t *testing.T, n int) {
	t.Helper()
	d := adapter().Deliver(t, 20, 3, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"elements":[`+strings.TrimSuffix(strings.Repeat(`{"status":201},`, n), ",")+`]}`)
	})
	if s := d.Summary; s.Sent != 0 || s.Failed != 20 || s.Requests != 3 {
		t.Fatalf("%d elements: summary = %+v", n, s)
	}
	if u := d.Upload(t); u.Acked != 0 || !strings.Contains(u.LastError, fmt.Sprintf("%d elements for 20 sent", n)) {
		t.Errorf("%d elements: upload = %+v", n, u)
	}
}
