package meta_test

import (
	"bytes"
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
		Events:     func(body []byte) []string { return eventIDs(decode(body)) },
		Accept: func(tb testing.TB, w http.ResponseWriter, c uploadertest.Call) {
			received(tb, w, len(decode(c.Body).Data))
		},
		Transient: []uploadertest.Answer{
			{Status: 503, File: "error_503.html", Want: "HTTP 503"},
			{Status: 503, File: "error_503.html", Header: []string{"Retry-After", "7"}, Want: "503 Service Unavailable"},
			{Status: 500, File: "error_code2_500.json", Want: "code 2: An unexpected error"},
		},
		RateLimit: []uploadertest.Answer{
			{Status: 429, File: "error_rate_limit_429.json", Header: []string{"Retry-After", "9"}, Want: "code 17/2446079"},
			{Status: 400, File: "error_rate_limit_429.json", Want: "User request limit reached"},
		},
		Reject: []uploadertest.Rejection{{
			Name: "invalid parameter (code 100)", Want: "too far in the past",
			Answer: func(tb testing.TB, w http.ResponseWriter, c uploadertest.Call, bad string) []string {
				if bytes.Contains(c.Body, []byte(bad)) {
					uploadertest.Canned(tb, w, 400, "error_invalid_param_100.json")
					return nil
				}
				b := decode(c.Body)
				received(tb, w, len(b.Data))
				return eventIDs(b)
			},
		}},
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

type wireEvent struct {
	EventName    string            `json:"event_name"`
	EventTime    int64             `json:"event_time"`
	ActionSource string            `json:"action_source"`
	EventID      string            `json:"event_id"`
	UserData     map[string]string `json:"user_data"`
	CustomData   map[string]string `json:"custom_data"`
}

type wireBody struct {
	Data          []wireEvent `json:"data"`
	TestEventCode string      `json:"test_event_code"`
}

// strict decodes a body, refusing a field Meta's schema does not have.
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

// check is what the fake Graph API checks of every request.
func check(c uploadertest.Call) error {
	if c.Method != http.MethodPost || c.Path != "/v21.0/123456789/events" {
		return fmt.Errorf("request %s %s", c.Method, c.Path)
	}
	if _, ok := c.Query["access_token"]; !ok || len(c.Query) != 1 {
		return fmt.Errorf("query names %v, want only access_token", slices.Sorted(maps.Keys(c.Query)))
	}
	if ct := c.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("content type %q", ct)
	}
	b, err := strict(c.Body)
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
