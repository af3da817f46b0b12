package tiktok_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/store/storetest"
	"github.com/tally-health/tally/uploaders/tiktok"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

const token = "tt-access-token-never-stored"

var (
	day = tally.Day("2026-11-20")
	now = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
)

func newTikTok(endpoint string, timeout time.Duration) *tiktok.TikTok {
	return tiktok.New(tiktok.Config{Endpoint: endpoint, EventSource: "offline", EventSourceID: "7301234567890",
		Events: map[string]string{"booking": "Schedule"}, Token: tally.NewSecret(token), Timeout: timeout})
}

func run(t *testing.T, endpoint string, n, attempts int, timeout time.Duration) (batch.Summary, *store.DB, *uploadertest.Sleeps) {
	t.Helper()
	db := storetest.Open(t)
	uploadertest.Seed(t, db, uploadertest.Released{Day: day, Platform: "tiktok", Campaign: "1790000000000", Conversion: "booking", N: n})
	d, sleeps := uploadertest.Delivery(db, now)
	s := d.Run(context.Background(), []batch.Target{uploadertest.Target(newTikTok(endpoint, timeout), attempts)})[0]
	return s, db, sleeps
}

type wire struct {
	EventSource   string `json:"event_source"`
	EventSourceID string `json:"event_source_id"`
	Data          []struct {
		Event      string            `json:"event"`
		EventTime  int64             `json:"event_time"`
		EventID    string            `json:"event_id"`
		User       map[string]string `json:"user"`
		Properties map[string]string `json:"properties"`
	} `json:"data"`
}

func decode(t *testing.T, b []byte) wire {
	t.Helper()
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("body: %v", err)
	}
	return w
}

func ok(t *testing.T) uploadertest.Respond {
	return func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		uploadertest.Canned(t, w, 200, "success.json")
	}
}

func TestSuccessRequestShape(t *testing.T) {
	srv := uploadertest.NewServer(t, ok(t))
	s, db, _ := run(t, srv.URL, 1001, 3, 0)
	if s.Sent != 1001 || s.Requests != 2 {
		t.Fatalf("summary = %+v", s)
	}
	c := srv.Calls()[0]
	if c.Method != "POST" || c.Path != "/open_api/v1.3/event/track/" || len(c.Query) != 0 {
		t.Errorf("request %s %s ?%v", c.Method, c.Path, c.Query)
	}
	if c.Header.Get("Access-Token") != token || c.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", c.Header)
	}
	w := decode(t, c.Body)
	if w.EventSource != "offline" || w.EventSourceID != "7301234567890" || len(w.Data) != tiktok.MaxBatch {
		t.Fatalf("body = %s…", c.Body[:200])
	}
	e := w.Data[0]
	if e.Event != "Schedule" || e.EventTime != time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Unix() || e.EventID == "" {
		t.Errorf("event = %+v", e)
	}
	if len(e.User) != 1 || e.User["external_id"] == "" {
		t.Errorf("user = %v, want only external_id", e.User)
	}
	if e.Properties["campaign_id"] != "1790000000000" || e.Properties["conversion"] != "booking" {
		t.Errorf("properties = %v", e.Properties)
	}
	reqs, _ := db.UploadRequests(context.Background(), "tiktok")
	if len(reqs) != 2 || strings.Contains(reqs[0].URL, token) || !strings.Contains(reqs[0].Response.String, `"code":0`) {
		t.Errorf("ledger = %+v", reqs[0].URL)
	}
}

func TestRetryableAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		file   string
		header []string
		sleep  time.Duration
	}{
		{"http 500", 500, "error_500.json", nil, 500 * time.Millisecond},
		{"429 with Retry-After", 429, "error_429.txt", []string{"Retry-After", "4"}, 4 * time.Second},
		{"40100 in a 200", 200, "error_rate_limit_40100.json", nil, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := uploadertest.NewServer(t, func(n int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					uploadertest.Canned(t, w, tt.status, tt.file, tt.header...)
					return
				}
				uploadertest.Canned(t, w, 200, "success.json")
			})
			s, _, sleeps := run(t, srv.URL, 20, 3, 0)
			if s.Sent != 20 || s.Retries != 1 {
				t.Fatalf("summary = %+v", s)
			}
			if got := sleeps.All(); len(got) != 1 || got[0] != tt.sleep {
				t.Errorf("sleeps = %v, want [%v]", got, tt.sleep)
			}
		})
	}
}

func TestPermanentError(t *testing.T) {
	srv := uploadertest.NewServer(t, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		uploadertest.Canned(t, w, 200, "error_auth_40001.json")
	})
	s, db, _ := run(t, srv.URL, 20, 5, 0)
	if s.Requests != 1 || s.Failed != 20 || s.Err == nil {
		t.Fatalf("summary = %+v", s)
	}
	if u := uploadertest.Uploads(t, db, "tiktok")[0]; u.State != tally.Failed || !strings.Contains(u.LastError, "code 40001: No permission") {
		t.Errorf("upload = %+v", u)
	}
}

func TestBisectionIsolatesBadEvent(t *testing.T) {
	bad := batch.EventID(uploadertest.Key, "tiktok", day, "1790000000000", "booking", 17)
	srv := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		if strings.Contains(string(c.Body), bad) {
			uploadertest.Canned(t, w, 200, "error_validation_40002.json")
			return
		}
		uploadertest.Canned(t, w, 200, "success.json")
	})
	s, db, _ := run(t, srv.URL, 300, 3, 0)
	if s.Sent != 299 || s.Failed != 1 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	acked := map[string]int{}
	for _, c := range srv.Calls() {
		if !strings.Contains(string(c.Body), bad) {
			for _, e := range decode(t, c.Body).Data {
				acked[e.EventID]++
			}
		}
	}
	if len(acked) != 299 {
		t.Errorf("acked %d", len(acked))
	}
	if u := uploadertest.Uploads(t, db, "tiktok")[0]; u.Rejected != 1 || !strings.Contains(u.LastError, "28 days") {
		t.Errorf("upload = %+v", u)
	}
}

func TestTimeoutUnreachableCancelled(t *testing.T) {
	srv := uploadertest.NewServer(t, func(n int, _ uploadertest.Call, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			uploadertest.Hang(r)
			return
		}
		uploadertest.Canned(t, w, 200, "success.json")
	})
	if s, _, _ := run(t, srv.URL, 20, 3, 100*time.Millisecond); s.Sent != 20 || s.Retries != 1 {
		t.Errorf("timeout: summary = %+v", s)
	}
	s, db, _ := run(t, uploadertest.DeadURL(t), 20, 2, 0)
	if u := uploadertest.Uploads(t, db, "tiktok")[0]; s.Requests != 2 || !strings.Contains(u.LastError, "network") {
		t.Errorf("unreachable: %+v %+v", s, u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tt := newTikTok(srv.URL, 0)
	req, _ := tt.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "booking", EventID: "e", ExternalID: "x", Time: now}}})
	if r := tt.Send(ctx, req); r.Class != batch.Retry || !strings.Contains(r.Message, "canceled") {
		t.Errorf("cancelled: %+v", r)
	}
}
