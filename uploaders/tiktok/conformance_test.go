package tiktok_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/tiktok"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

func TestConformance(t *testing.T) { uploadertest.Conformance(t, adapter()) }

func newTikTok(endpoint string, secret tally.Secret, timeout time.Duration) batch.Uploader {
	return tiktok.New(tiktok.Config{Endpoint: endpoint, EventSource: "offline", EventSourceID: "7301234567890",
		TestEventCode: "TEST42", Events: map[string]string{"booking": "Schedule"}, Token: secret, Timeout: timeout})
}

// adapter describes TikTok's Events API to the conformance suite. TikTok
// answers 200 to business errors and refuses a whole request for one
// invalid event (40002), so a rejection is bisected. An answer without
// TikTok's code says nothing about the events: judged by its HTTP status.
func adapter() uploadertest.Adapter {
	return uploadertest.Adapter{
		New:        newTikTok,
		Credential: func(c uploadertest.Call) string { return c.Header.Get("Access-Token") },
		Check:      check,
		Events:     func(body []byte) []string { return eventIDs(decode(body)) },
		Accept: func(tb testing.TB, w http.ResponseWriter, _ uploadertest.Call) {
			uploadertest.Canned(tb, w, 200, "success.json")
		},
		Transient: []uploadertest.Answer{
			{Status: 500, File: "error_500.json", Want: "code 50000: System error"},
			{Status: 502, File: "proxy_502.html", Header: []string{"Retry-After", "3"}, Want: "HTTP 502"},
		},
		RateLimit: []uploadertest.Answer{
			{Status: 429, File: "error_429.txt", Header: []string{"Retry-After", "4"}, Want: "Too Many Requests"},
			{Status: 200, File: "error_rate_limit_40100.json", Want: "code 40100"},
		},
		Reject: []uploadertest.Rejection{{
			Name: "validation error (40002)", Want: "28 days",
			Answer: func(tb testing.TB, w http.ResponseWriter, c uploadertest.Call, bad string) []string {
				if bytes.Contains(c.Body, []byte(bad)) {
					uploadertest.Canned(tb, w, 200, "error_validation_40002.json")
					return nil
				}
				uploadertest.Canned(tb, w, 200, "success.json")
				return eventIDs(decode(c.Body))
			},
		}},
		Permanent: []uploadertest.Answer{
			{Status: 302, File: "redirect_302.html", Header: []string{"Location", "https://business-api.tiktok.com/login"}, Want: "HTTP 302"},
			{Status: 307, File: "redirect_302.html", Header: []string{"Location", "https://example.org/open_api/v1.3/event/track/"}, Want: "HTTP 307"},
			{Status: 404, File: "proxy_404.html", Want: "HTTP 404"},
			{Status: 400, File: "error_400.txt", Want: "HTTP 400: Bad Request"},
		},
		Refused: []uploadertest.Answer{
			{Status: 200, File: "error_auth_40001.json", Want: "code 40001: No permission"},
		},
	}
}

type wireBody struct {
	EventSource   string `json:"event_source"`
	EventSourceID string `json:"event_source_id"`
	TestEventCode string `json:"test_event_code"`
	Data          []struct {
		Event      string            `json:"event"`
		EventTime  int64             `json:"event_time"`
		EventID    string            `json:"event_id"`
		User       map[string]string `json:"user"`
		Properties map[string]string `json:"properties"`
	} `json:"data"`
}

// strict decodes a body, refusing a field TikTok's schema does not have.
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
	for _, e := range b.Data {
		ids = append(ids, e.EventID)
	}
	return ids
}

// check is what the fake Events API checks of every request.
func check(c uploadertest.Call) error {
	if c.Method != http.MethodPost || c.Path != "/open_api/v1.3/event/track/" || len(c.Query) != 0 {
		return fmt.Errorf("request %s %s with %d query parameters", c.Method, c.Path, len(c.Query))
	}
	if ct := c.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("content type %q", ct)
	}
	b, err := strict(c.Body)
	if err != nil || b.EventSource != "offline" || b.EventSourceID == "" || len(b.Data) == 0 || len(b.Data) > tiktok.MaxBatch {
		return fmt.Errorf("body with source %q/%q and %d events: %v", b.EventSource, b.EventSourceID, len(b.Data), err)
	}
	for _, e := range b.Data {
		if e.Event == "" || e.EventTime <= 0 || e.EventID == "" || e.User["external_id"] == "" || e.Properties["conversion"] == "" {
			return fmt.Errorf("event lacks a required field: %+v", e)
		}
	}
	return nil
}
