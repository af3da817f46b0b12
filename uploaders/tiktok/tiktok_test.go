package tiktok_test

import (
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
		Events:     events,
		Accept: func(tb testing.TB, w http.ResponseWriter, c uploadertest.Call) []string {
			uploadertest.Canned(tb, w, 200, "success.json")
			return events(c.Body)
		},
		Transient: []uploadertest.Answer{
			{Status: 500, File: "error_500.json", Want: "code 50000: System error"},
			{Status: 502, File: "proxy_502.html", Header: []string{"Retry-After", "3"}, Want: "HTTP 502"},
		},
		RateLimit: []uploadertest.Answer{
			{Status: 429, File: "error_429.txt", Header: []string{"Retry-After", "4"}, Want: "Too Many Requests"},
			{Status: 200, File: "error_rate_limit_40100.json", Want: "code 40100"},
		},
		Reject: []uploadertest.Rejection{{Name: "validation error (40002)",
			Answer: uploadertest.Answer{Status: 200, File: "error_validation_40002.json", Want: "28 days"}}},
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

// events returns the event ids of a request body.
func events(body []byte) []string { return uploadertest.Values(body, "data", "event_id") }

// check is what the fake Events API checks of every request.
func check(c uploadertest.Call) error {
	if c.Path != "/open_api/v1.3/event/track/" || len(c.Query) != 0 {
		return fmt.Errorf("request to %s with %d query parameters", c.Path, len(c.Query))
	}
	b, err := uploadertest.Strict[wireBody](c.Body)
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

// Build encodes TikTok's event schema: the configured event source, mapped
// event names, unix seconds, only the synthetic external_id in user, and
// the campaign and generic conversion in properties.
func TestBuild(t *testing.T) {
	req := uploadertest.Builds(t, adapter(), "http://tiktok.test/", `{
		"event_source": "offline", "event_source_id": "7301234567890", "test_event_code": "TEST42", "data": [
		{"event": "Schedule", "event_time": 1795240800, "event_id": "e1",
			"user": {"external_id": "x1"}, "properties": {"campaign_id": "cmp_42", "conversion": "booking"}},
		{"event": "call", "event_time": 1795240800, "event_id": "e2", "user": {"external_id": "x2"}, "properties": {"conversion": "call"}}]}`)
	if req.URL != "http://tiktok.test/open_api/v1.3/event/track/" || req.Header.Get("Access-Token") != "" {
		t.Errorf("URL %s, headers %v", req.URL, req.Header)
	}
}
