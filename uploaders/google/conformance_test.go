package google_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/google"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

func TestConformance(t *testing.T) { uploadertest.Conformance(t, adapter()) }

// newGoogle builds the GA4 uploader the suite uses: booking is sent as
// appointment_request.
func newGoogle(endpoint string, secret tally.Secret, timeout time.Duration) batch.Uploader {
	return withEvents(map[string]string{"booking": "appointment_request"}, false)(endpoint, secret, timeout)
}

// validating builds one that asks the debug endpoint before each request.
func validating(endpoint string, secret tally.Secret, timeout time.Duration) batch.Uploader {
	return withEvents(nil, true)(endpoint, secret, timeout)
}

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
		Events:     func(body []byte) []string { return eventIDs(decode(body)) },
		Accept:     accept,
		Transient: []uploadertest.Answer{
			{Status: 500, File: "error_500.html", Unknown: true, Want: "HTTP 500"},
			{Status: 503, File: "error_500.html", Header: []string{"Retry-After", "5"}, Unknown: true, Want: "HTTP 503"},
		},
		RateLimit: []uploadertest.Answer{
			{Status: 429, File: "error_429.html", Header: []string{"Retry-After", "11"}, Want: "HTTP 429"},
		},
		Reject: []uploadertest.Rejection{{
			Name: "validation message on an event", Want: "too long", New: validating,
			Answer: func(tb testing.TB, w http.ResponseWriter, c uploadertest.Call, bad string) []string {
				switch {
				case c.Path == "/mp/collect":
					accept(tb, w, c)
					return eventIDs(decode(c.Body))
				case bytes.Contains(c.Body, []byte(bad)):
					uploadertest.Canned(tb, w, 200, "validation_bad_event.json")
				default:
					uploadertest.Canned(tb, w, 200, "validation_ok.json")
				}
				return nil
			},
		}},
		Permanent: []uploadertest.Answer{
			{Status: 404, File: "error_404.html", Want: "HTTP 404"},
		},
		Refused: []uploadertest.Answer{
			{Status: 200, File: "validation_bad_request.json", New: validating, Want: "Unable to find measurement_id"},
		},
	}
}

// accept answers as GA4 does: 204 from collect, no message from the
// validation endpoint.
func accept(tb testing.TB, w http.ResponseWriter, c uploadertest.Call) {
	if c.Path == "/debug/mp/collect" {
		uploadertest.Canned(tb, w, 200, "validation_ok.json")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type wireBody struct {
	ClientID        string `json:"client_id"`
	TimestampMicros int64  `json:"timestamp_micros"`
	Events          []struct {
		Name   string            `json:"name"`
		Params map[string]string `json:"params"`
	} `json:"events"`
}

// strict decodes a body, refusing a field the Measurement Protocol does
// not have.
func strict(b []byte) (wireBody, error) {
	var w wireBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&w)
	return w, err
}

func decode(b []byte) wireBody {
	w, _ := strict(b)
	return w
}

func eventIDs(b wireBody) []string {
	var ids []string
	for _, e := range b.Events {
		ids = append(ids, e.Params["tally_event_id"])
	}
	return ids
}

// check is what the fake GA4 checks of every request.
func check(c uploadertest.Call) error {
	if c.Method != http.MethodPost || (c.Path != "/mp/collect" && c.Path != "/debug/mp/collect") {
		return fmt.Errorf("request %s %s", c.Method, c.Path)
	}
	if _, ok := c.Query["api_secret"]; !ok || len(c.Query) != 2 || c.Query.Get("measurement_id") != "G-TEST1234" {
		return fmt.Errorf("query with %d parameters, want measurement_id and api_secret", len(c.Query))
	}
	if ct := c.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("content type %q", ct)
	}
	b, err := strict(c.Body)
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
