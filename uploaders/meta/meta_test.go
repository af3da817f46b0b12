package meta_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/meta"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

func TestConformance(t *testing.T) { uploadertest.Conformance(t, adapter()) }

func newMeta(endpoint string, secret tally.Secret, timeout time.Duration) batch.Uploader {
	return meta.New(meta.Config{
		Endpoint: endpoint, APIVersion: "v21.0", DatasetID: "123456789", ActionSource: "other",
		TestEventCode: "TEST123", Events: map[string]string{"booking": "AppointmentRequest"},
		Token: secret, Timeout: timeout,
	})
}

// adapter describes Meta's Conversions API to the conformance suite. One
// invalid event fails the whole request, so a rejection is bisected.
func adapter() uploadertest.Adapter {
	return uploadertest.Adapter{
		New:        newMeta,
		Credential: func(c uploadertest.Call) string { return c.Query.Get("access_token") },
		Check:      check,
		Events:     events,
		Accept:     accept,
		Transient: []uploadertest.Answer{
			{Status: 503, File: "error_503.html", Want: "HTTP 503"},
			{Status: 503, File: "error_503.html", Header: []string{"Retry-After", "7"}, Want: "503 Service Unavailable"},
			{Status: 500, File: "error_code2_500.json", Want: "code 2: An unexpected error"},
		},
		RateLimit: []uploadertest.Answer{
			{Status: 429, File: "error_rate_limit_429.json", Header: []string{"Retry-After", "9"}, Want: "code 17/2446079"},
			{Status: 400, File: "error_rate_limit_429.json", Want: "User request limit reached"},
		},
		Reject: []uploadertest.Rejection{{Name: "invalid parameter (code 100)",
			Answer: uploadertest.Answer{Status: 400, File: "error_invalid_param_100.json", Want: "too far in the past"}}},
		// Answers without Graph API's code: judged by their status alone.
		Permanent: []uploadertest.Answer{
			{Status: 400, File: "error_string_400.json", Want: "Invalid OAuth 2.0 Access Token"},
			{Status: 400, File: "error_no_code_400.json", Want: "GraphMethodException"},
			{Status: 400, File: "error_dataset_100_33.json", Want: "code 100/33: Unsupported post request"},
		},
		Refused: []uploadertest.Answer{
			{Status: 400, File: "error_token_190.json", Want: "code 190/463: Error validating access token"},
		},
	}
}

// Build encodes Meta's event schema: mapped event names, unix seconds, the
// configured action source, only the synthetic external_id in user_data,
// and the campaign and generic conversion in custom_data.
func TestBuild(t *testing.T) {
	req := uploadertest.Builds(t, adapter(), "http://graph.test/", `{"test_event_code": "TEST123", "data": [
		{"event_name": "AppointmentRequest", "event_time": 1795240800, "action_source": "other", "event_id": "e1",
			"user_data": {"external_id": "x1"}, "custom_data": {"campaign_id": "cmp_42", "conversion": "booking"}},
		{"event_name": "call", "event_time": 1795240800, "action_source": "other", "event_id": "e2",
			"user_data": {"external_id": "x2"}, "custom_data": {"conversion": "call"}}]}`)
	if req.URL != "http://graph.test/v21.0/123456789/events" {
		t.Errorf("URL %s", req.URL)
	}
}

// TestLimitedDataUse: with limited_data_use every event carries Meta's
// Limited Data Use flag, with country and state 0 (Meta geolocates);
// without it (TestBuild) none does.
func TestLimitedDataUse(t *testing.T) {
	a := adapter()
	a.New = func(endpoint string, secret tally.Secret, timeout time.Duration) batch.Uploader {
		return meta.New(meta.Config{Endpoint: endpoint, APIVersion: "v21.0", DatasetID: "123456789", ActionSource: "other",
			LimitedDataUse: true, Token: secret, Timeout: timeout})
	}
	uploadertest.Builds(t, a, "http://graph.test/", `{"data": [
		{"event_name": "booking", "event_time": 1795240800, "action_source": "other", "event_id": "e1",
			"user_data": {"external_id": "x1"}, "custom_data": {"campaign_id": "cmp_42", "conversion": "booking"},
			"data_processing_options": ["LDU"], "data_processing_options_country": 0, "data_processing_options_state": 0},
		{"event_name": "call", "event_time": 1795240800, "action_source": "other", "event_id": "e2",
			"user_data": {"external_id": "x2"}, "custom_data": {"conversion": "call"},
			"data_processing_options": ["LDU"], "data_processing_options_country": 0, "data_processing_options_state": 0}]}`)
}

func TestSpecWindow(t *testing.T) {
	if w := newMeta("http://x", tally.Secret{}, 0).Spec().Window; w >= 7*24*time.Hour || w < 6*24*time.Hour {
		t.Errorf("window = %v", w)
	}
	ps := meta.New(meta.Config{Endpoint: "http://x", ActionSource: "physical_store"})
	if w := ps.Spec().Window; w < 61*24*time.Hour {
		t.Errorf("physical_store window = %v", w)
	}
}

type wireBody struct {
	Data          []wireEvent `json:"data"`
	TestEventCode string      `json:"test_event_code"`
}

// events returns the event ids of a request body.
func events(body []byte) []string { return uploadertest.Values(body, "data", "event_id") }

type wireEvent struct {
	EventName    string            `json:"event_name"`
	EventTime    int64             `json:"event_time"`
	ActionSource string            `json:"action_source"`
	EventID      string            `json:"event_id"`
	UserData     map[string]string `json:"user_data"`
	CustomData   map[string]string `json:"custom_data"`
	// Limited Data Use, sent only when limited_data_use is on.
	DataProcessingOptions        []string `json:"data_processing_options"`
	DataProcessingOptionsCountry *int     `json:"data_processing_options_country"`
	DataProcessingOptionsState   *int     `json:"data_processing_options_state"`
}

// check is what the fake Graph API checks of every request.
func check(c uploadertest.Call) error {
	if c.Path != "/v21.0/123456789/events" {
		return fmt.Errorf("request to %s", c.Path)
	}
	if _, ok := c.Query["access_token"]; !ok || len(c.Query) != 1 {
		return fmt.Errorf("query names %v, want only access_token", slices.Sorted(maps.Keys(c.Query)))
	}
	b, err := uploadertest.Strict[wireBody](c.Body)
	if err != nil || len(b.Data) == 0 || len(b.Data) > meta.MaxBatch {
		return fmt.Errorf("body of %d events: %v", len(b.Data), err)
	}
	for _, e := range b.Data {
		if e.EventName == "" || e.EventTime <= 0 || e.ActionSource == "" || e.EventID == "" || e.UserData["external_id"] == "" ||
			e.CustomData["conversion"] == "" {
			return fmt.Errorf("event lacks a required field: %+v", e)
		}
	}
	return nil
}

// accept answers as Graph API does to a valid request: 200 with
// events_received counting the events sent.
func accept(tb testing.TB, w http.ResponseWriter, c uploadertest.Call) []string {
	ids := events(c.Body)
	received(tb, w, len(ids))
	return ids
}

// received answers 200 with the canned success shape saying n events were
// received. It runs on the server's goroutine: it reports with Errorf.
func received(tb testing.TB, w http.ResponseWriter, n int) {
	var ans map[string]any
	canned, err := os.ReadFile(filepath.Join("testdata", "success.json"))
	if err == nil {
		err = json.Unmarshal(canned, &ans)
	}
	if err != nil {
		tb.Errorf("canned success: %v", err)
		return
	}
	ans["events_received"] = n
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(ans); err != nil {
		tb.Error(err)
	}
}
