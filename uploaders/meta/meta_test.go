package meta_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/store/storetest"
	"github.com/tally-health/tally/uploaders/meta"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

const token = "EAAB-meta-test-token-never-stored"

var (
	day = tally.Day("2026-11-20")
	now = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
)

func newMeta(endpoint string, timeout time.Duration) *meta.Meta {
	return meta.New(meta.Config{
		Endpoint: endpoint, APIVersion: "v21.0", DatasetID: "123456789", ActionSource: "other",
		TestEventCode: "TEST123", Events: map[string]string{"booking": "AppointmentRequest"},
		Token: tally.NewSecret(token), Timeout: timeout,
	})
}

// run seeds one meta cell of n conversions and delivers it to srv.
func run(t *testing.T, endpoint string, n, attempts int, timeout time.Duration) (batch.Summary, *store.DB, *uploadertest.Sleeps) {
	t.Helper()
	db := storetest.Open(t)
	uploadertest.Seed(t, db, uploadertest.Released{Day: day, Platform: "meta", Campaign: "cmp_42", Conversion: "booking", N: n})
	d, sleeps := uploadertest.Delivery(db, now)
	s := d.Run(context.Background(), []batch.Target{uploadertest.Target(newMeta(endpoint, timeout), attempts)})[0]
	return s, db, sleeps
}

type wireEvent struct {
	EventName    string                     `json:"event_name"`
	EventTime    int64                      `json:"event_time"`
	ActionSource string                     `json:"action_source"`
	EventID      string                     `json:"event_id"`
	UserData     map[string]json.RawMessage `json:"user_data"`
	CustomData   map[string]string          `json:"custom_data"`
}

type wireBody struct {
	Data          []wireEvent `json:"data"`
	TestEventCode string      `json:"test_event_code"`
}

func decode(t *testing.T, b []byte) wireBody {
	t.Helper()
	var w wireBody
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return w
}

// acknowledge answers as Meta does to a valid request: 200 with the
// canned success shape, events_received counting the events sent. It runs
// on the server's goroutine, so it reports with t.Error, never t.Fatal.
func acknowledge(t *testing.T, w http.ResponseWriter, body []byte) {
	t.Helper()
	var b wireBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Errorf("request body is not JSON: %v", err)
	}
	received(t, w, len(b.Data))
}

// received answers 200 with the canned success shape saying n events were
// received.
func received(t *testing.T, w http.ResponseWriter, n int) {
	t.Helper()
	var ans map[string]any
	canned, err := os.ReadFile(filepath.Join("testdata", "success.json"))
	if err == nil {
		err = json.Unmarshal(canned, &ans)
	}
	if err != nil {
		t.Errorf("canned success: %v", err)
		return
	}
	ans["events_received"] = n
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(ans); err != nil {
		t.Error(err)
	}
}

func TestSuccessRequestShape(t *testing.T) {
	srv := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		acknowledge(t, w, c.Body)
	})
	s, db, _ := run(t, srv.URL, 1200, 3, 0)
	if s.Sent != 1200 || s.Requests != 2 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	calls := srv.Calls()
	c := calls[0]
	if c.Method != http.MethodPost || c.Path != "/v21.0/123456789/events" {
		t.Errorf("request %s %s", c.Method, c.Path)
	}
	if c.Query.Get("access_token") != token || len(c.Query) != 1 {
		t.Errorf("query = %v, want only access_token", c.Query)
	}
	if ct := c.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	body := decode(t, c.Body)
	if len(body.Data) != meta.MaxBatch || body.TestEventCode != "TEST123" {
		t.Fatalf("data %d events, test code %q", len(body.Data), body.TestEventCode)
	}
	e := body.Data[0]
	noon := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Unix()
	if e.EventName != "AppointmentRequest" || e.EventTime != noon || e.ActionSource != "other" || e.EventID == "" {
		t.Errorf("event = %+v", e)
	}
	if keys := mapKeys(e.UserData); !slices.Equal(keys, []string{"external_id"}) {
		t.Errorf("user_data keys = %v, want only the synthetic external_id", keys)
	}
	if e.CustomData["campaign_id"] != "cmp_42" || e.CustomData["conversion"] != "booking" || len(e.CustomData) != 2 {
		t.Errorf("custom_data = %v", e.CustomData)
	}
	// Every conversion's id is distinct across both requests.
	seen := map[string]bool{}
	for _, c := range calls {
		for _, e := range decode(t, c.Body).Data {
			if seen[e.EventID] {
				t.Fatalf("event id %s twice", e.EventID)
			}
			seen[e.EventID] = true
		}
	}
	reqs, _ := db.UploadRequests(context.Background(), "meta")
	for _, r := range reqs {
		if strings.Contains(r.URL, token) || strings.Contains(r.URL, "access_token") {
			t.Errorf("stored URL holds the token: %s", r.URL)
		}
		if r.Body != string(calls[0].Body) && r.Body != string(calls[1].Body) {
			t.Error("stored body is not the body sent")
		}
		if !strings.Contains(r.Response.String, "events_received") {
			t.Errorf("stored response %q", r.Response.String)
		}
	}
}

func mapKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestRetryableAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		file   string
		header []string
		sleep  time.Duration // first wait; jitter picks the ceiling
	}{
		{"http 503", 503, "error_503.html", nil, 500 * time.Millisecond},
		{"429 with Retry-After", 429, "error_rate_limit_429.json", []string{"Retry-After", "9"}, 9 * time.Second},
		{"code 2 in a 500", 500, "error_code2_500.json", nil, 500 * time.Millisecond},
		{"code 17 in a 400", 400, "error_rate_limit_429.json", nil, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					uploadertest.Canned(t, w, tt.status, tt.file, tt.header...)
					return
				}
				acknowledge(t, w, c.Body)
			})
			s, db, sleeps := run(t, srv.URL, 20, 3, 0)
			if s.Sent != 20 || s.Retries != 1 || s.Err != nil {
				t.Fatalf("summary = %+v", s)
			}
			if got := sleeps.All(); len(got) != 1 || got[0] != tt.sleep {
				t.Errorf("sleeps = %v, want [%v]", got, tt.sleep)
			}
			reqs, _ := db.UploadRequests(context.Background(), "meta")
			if len(reqs) != 2 || reqs[0].Status.Int64 != int64(tt.status) || !reqs[0].Error.Valid {
				t.Errorf("ledger = %+v", reqs)
			}
			calls := srv.Calls()
			if string(calls[0].Body) != string(calls[1].Body) {
				t.Error("a retry must send the same bytes")
			}
		})
	}
}

func TestPermanentErrorFailsWithPlatformMessage(t *testing.T) {
	srv := uploadertest.NewServer(t, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		uploadertest.Canned(t, w, 400, "error_token_190.json")
	})
	s, db, sleeps := run(t, srv.URL, 20, 5, 0)
	if s.Requests != 1 || s.Failed != 20 || s.Err == nil || len(sleeps.All()) != 0 {
		t.Fatalf("summary = %+v, sleeps %v", s, sleeps.All())
	}
	u := uploadertest.Uploads(t, db, "meta")[0]
	if u.State != tally.Failed || !strings.Contains(u.LastError, "code 190/463: Error validating access token") {
		t.Errorf("upload = %+v", u)
	}
	if strings.Contains(u.LastError, token) || strings.Contains(s.Err.Error(), token) {
		t.Error("error holds the token")
	}
}

func TestBisectionIsolatesBadEvent(t *testing.T) {
	bad := batch.EventID(uploadertest.Key, "meta", day, "cmp_42", "booking", 613)
	srv := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		if strings.Contains(string(c.Body), bad) {
			uploadertest.Canned(t, w, 400, "error_invalid_param_100.json")
			return
		}
		acknowledge(t, w, c.Body)
	})
	s, db, _ := run(t, srv.URL, 1000, 3, 0)
	if s.Sent != 999 || s.Failed != 1 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	acked := map[string]int{}
	for _, c := range srv.Calls() {
		if strings.Contains(string(c.Body), bad) {
			continue
		}
		for _, e := range decode(t, c.Body).Data {
			acked[e.EventID]++
		}
	}
	if len(acked) != 999 {
		t.Errorf("acknowledged %d distinct events, want 999", len(acked))
	}
	for id, n := range acked {
		if n != 1 {
			t.Errorf("%s acknowledged %d times", id, n)
		}
	}
	u := uploadertest.Uploads(t, db, "meta")[0]
	if u.Rejected != 1 || u.Acked != 999 || !strings.Contains(u.LastError, "Event Timestamp Too Old") && !strings.Contains(u.LastError, "too far in the past") {
		t.Errorf("upload = %+v", u)
	}
}

func TestTimeoutRetries(t *testing.T) {
	srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			uploadertest.Hang(r)
			return
		}
		acknowledge(t, w, c.Body)
	})
	s, db, _ := run(t, srv.URL, 20, 3, 100*time.Millisecond)
	if s.Sent != 20 || s.Retries != 1 {
		t.Fatalf("summary = %+v", s)
	}
	reqs, _ := db.UploadRequests(context.Background(), "meta")
	if reqs[0].Status.Valid || !strings.Contains(reqs[0].Error.String, "timeout") {
		t.Errorf("first request = %+v, want no status and a timeout", reqs[0])
	}
}

func TestUnreachableHost(t *testing.T) {
	s, db, sleeps := run(t, uploadertest.DeadURL(t), 20, 3, 0)
	if s.Requests != 3 || s.Failed != 20 || len(sleeps.All()) != 2 {
		t.Fatalf("summary = %+v", s)
	}
	u := uploadertest.Uploads(t, db, "meta")[0]
	if u.State != tally.Failed || !strings.Contains(u.LastError, "gave up after 3 attempts: network") || strings.Contains(u.LastError, token) {
		t.Errorf("upload = %+v", u)
	}
}

func TestCancelledContext(t *testing.T) {
	srv := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		acknowledge(t, w, c.Body)
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := newMeta(srv.URL, 0)
	req, err := m.Build(&batch.Batch{Items: []batch.Conversion{{Day: day, Conversion: "booking", EventID: "e", ExternalID: "x", Time: now}}})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Send(ctx, req)
	if r.Class != batch.Retry || !strings.Contains(r.Message, "canceled") || strings.Contains(r.Message, token) {
		t.Errorf("reply = %+v", r)
	}
	// A run whose context is already cancelled sends nothing.
	db := storetest.Open(t)
	uploadertest.Seed(t, db, uploadertest.Released{Day: day, Platform: "meta", Campaign: "c", Conversion: "booking", N: 20})
	d, _ := uploadertest.Delivery(db, now)
	s := d.Run(ctx, []batch.Target{uploadertest.Target(m, 3)})[0]
	if s.Requests != 0 || len(srv.Calls()) != 0 || s.Err == nil {
		t.Errorf("summary = %+v, calls %d", s, len(srv.Calls()))
	}
}

func TestSpecWindow(t *testing.T) {
	if w := newMeta("http://x", 0).Spec().Window; w >= 7*24*time.Hour || w < 6*24*time.Hour {
		t.Errorf("window = %v", w)
	}
	ps := meta.New(meta.Config{Endpoint: "http://x", ActionSource: "physical_store"})
	if w := ps.Spec().Window; w < 61*24*time.Hour {
		t.Errorf("physical_store window = %v", w)
	}
}
