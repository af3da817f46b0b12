package google_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/google"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

func TestConformance(t *testing.T) { uploadertest.Conformance(t, adapter()) }

var (
	// newGoogle builds the GA4 uploader the suite uses: booking is sent as
	// appointment_request.
	newGoogle = withEvents(map[string]string{"booking": "appointment_request"}, false)
	// validating builds one that asks the debug endpoint before each request.
	validating = withEvents(nil, true)
)

func withEvents(events map[string]string, validate bool) uploadertest.NewFunc {
	return func(endpoint string, secret tally.Secret, timeout time.Duration) batch.Uploader {
		return google.New(google.Config{Endpoint: endpoint, MeasurementID: "G-TEST1234", Events: events,
			Validate: validate, Secret: secret, Timeout: timeout})
	}
}

// adapter describes the GA4 Measurement Protocol to the conformance suite.
// The collect endpoint answers 2xx even to a malformed event or a wrong
// api_secret: only the validation endpoint names a bad event or a refused
// credential, so those cases validate. GA4 does not deduplicate: a 5xx may
// come after it counted the events, so those conversions become uncertain
// instead of being resent (atmostonce_test.go follows them further).
func adapter() uploadertest.Adapter {
	return uploadertest.Adapter{
		New:        newGoogle,
		Credential: func(c uploadertest.Call) string { return c.Query.Get("api_secret") },
		Check:      check,
		Events:     events,
		Accept:     accept,
		Transient: []uploadertest.Answer{
			{Status: 500, File: "error_500.html", Unknown: true, Want: "HTTP 500"},
			{Status: 503, File: "error_500.html", Header: []string{"Retry-After", "5"}, Unknown: true, Want: "HTTP 503"},
		},
		RateLimit: []uploadertest.Answer{
			{Status: 429, File: "error_429.html", Header: []string{"Retry-After", "11"}, Want: "HTTP 429"},
		},
		Reject: []uploadertest.Rejection{{Name: "validation message on an event",
			Answer: uploadertest.Answer{Status: 200, File: "validation_bad_event.json", Want: "too long", New: validating}}},
		Permanent: []uploadertest.Answer{
			{Status: 404, File: "error_404.html", Want: "HTTP 404"},
		},
		Refused: []uploadertest.Answer{
			{Status: 200, File: "validation_bad_request.json", New: validating, Want: "Unable to find measurement_id"},
		},
	}
}

// accept answers as GA4 does: 204 from collect, which counts the events,
// and no message from the validation endpoint, which counts none.
func accept(tb testing.TB, w http.ResponseWriter, c uploadertest.Call) []string {
	if c.Path == "/debug/mp/collect" {
		uploadertest.Canned(tb, w, 200, "validation_ok.json")
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return events(c.Body)
}

var now = uploadertest.Now

// Build encodes a Measurement Protocol request: the chunk's synthetic
// client_id, the first event's time in microseconds, mapped event names,
// and the campaign, generic conversion and event id as params; GA4's
// restriction flags (the request's consent, which covers its events)
// deny ad user data and ad personalisation.
func TestBuild(t *testing.T) {
	req := uploadertest.Builds(t, adapter(), "http://ga.test/", `{"client_id": "chunk-1", "timestamp_micros": 1795240800000000,
		"consent": {"ad_user_data": "DENIED", "ad_personalization": "DENIED"}, "events": [
		{"name": "appointment_request", "params": {"campaign_id": "cmp_42", "conversion": "booking", "tally_event_id": "e1"}},
		{"name": "call", "params": {"conversion": "call", "tally_event_id": "e2"}}]}`)
	if req.URL != "http://ga.test/mp/collect?measurement_id=G-TEST1234" {
		t.Errorf("URL %s", req.URL)
	}
}

// One synthetic client per chunk: two chunks never share a client_id.
func TestClientIDPerChunk(t *testing.T) {
	d := adapter().Deliver(t, 60, 3, adapter().Accepting(t))
	seen := map[string]bool{}
	for _, c := range d.Calls() {
		id := decode(c.Body).ClientID
		if seen[id] {
			t.Errorf("two chunks share client_id %s", id)
		}
		seen[id] = true
	}
	if len(seen) != 3 || d.Summary.Sent != 60 {
		t.Errorf("%d client ids, summary %+v", len(seen), d.Summary)
	}
}

// A name GA4 would silently drop never leaves: it is checked locally and
// the cell fails without a request.
func TestInvalidNameIsNeverSent(t *testing.T) {
	a := adapter()
	a.New = withEvents(map[string]string{"booking": strings.Repeat("x", 41)}, false)
	d := a.Deliver(t, 20, 3, adapter().Accepting(t))
	if len(d.Calls()) != 0 || d.Summary.Failed != 20 {
		t.Fatalf("sent %d requests with an invalid name: %+v", len(d.Calls()), d.Summary)
	}
	if u := d.Upload(t); u.State != tally.Failed || !strings.Contains(u.LastError, "over 40 characters") || u.Next != 0 {
		t.Errorf("upload = %+v", u)
	}
}

func TestLocalValidation(t *testing.T) {
	for name, ok := range map[string]bool{
		"booking": true, "appointment_request": true, "1booking": false, "book-ing": false,
		"google_booking": false, "session_start": false, strings.Repeat("a", 40): true, strings.Repeat("a", 41): false,
	} {
		g := withEvents(map[string]string{"booking": name}, false)("http://x", tally.Secret{}, 0)
		_, err := g.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "booking", Time: now}}})
		if (err == nil) != ok {
			t.Errorf("name %q: err = %v, want ok=%v", name, err, ok)
		}
	}
	items := make([]batch.Conversion, 26)
	if _, err := newGoogle("http://x", tally.Secret{}, 0).Build(&batch.Batch{Items: items}); err == nil {
		t.Error("26 events accepted")
	}
}

type wireBody struct {
	ClientID        string            `json:"client_id"`
	TimestampMicros int64             `json:"timestamp_micros"`
	Consent         map[string]string `json:"consent"`
	Events          []struct {
		Name   string            `json:"name"`
		Params map[string]string `json:"params"`
	} `json:"events"`
}

// events returns the event ids of a request body.
func events(body []byte) []string {
	return uploadertest.Values(body, "events", "params", "tally_event_id")
}

// decode reads a body as the fake platform does; a body of another shape
// reads as none.
func decode(b []byte) wireBody {
	w, _ := uploadertest.Strict[wireBody](b)
	return w
}

// check is what the fake GA4 checks of every request.
func check(c uploadertest.Call) error {
	if c.Path != "/mp/collect" && c.Path != "/debug/mp/collect" {
		return fmt.Errorf("request to %s", c.Path)
	}
	if _, ok := c.Query["api_secret"]; !ok || len(c.Query) != 2 || c.Query.Get("measurement_id") != "G-TEST1234" {
		return fmt.Errorf("query with %d parameters, want measurement_id and api_secret", len(c.Query))
	}
	b, err := uploadertest.Strict[wireBody](c.Body)
	if err != nil || b.ClientID == "" || b.TimestampMicros <= 0 || len(b.Events) == 0 || len(b.Events) > google.MaxBatch {
		return fmt.Errorf("body with client %q and %d events: %v", b.ClientID, len(b.Events), err)
	}
	for _, e := range b.Events {
		if e.Name == "" || e.Params["conversion"] == "" || e.Params["tally_event_id"] == "" {
			return fmt.Errorf("event lacks a required field: %+v", e)
		}
	}
	return nil
}
