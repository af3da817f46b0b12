package google_test

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
	"github.com/tally-health/tally/uploaders/google"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

const secret = "ga4-api-secret-never-stored"

var (
	day = tally.Day("2026-11-20")
	now = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
)

func newGoogle(endpoint string, validate bool, timeout time.Duration, events map[string]string) *google.Google {
	return google.New(google.Config{Endpoint: endpoint, MeasurementID: "G-TEST1234", Events: events,
		Validate: validate, Secret: tally.NewSecret(secret), Timeout: timeout})
}

func run(t *testing.T, g *google.Google, n, attempts int) (batch.Summary, *store.DB, *uploadertest.Sleeps) {
	t.Helper()
	db := storetest.Open(t)
	uploadertest.Seed(t, db, uploadertest.Released{Day: day, Platform: "google", Campaign: "spring_2026", Conversion: "booking", N: n})
	d, sleeps := uploadertest.Delivery(db, now)
	s := d.Run(context.Background(), []batch.Target{uploadertest.Target(g, attempts)})[0]
	return s, db, sleeps
}

type wire struct {
	ClientID        string `json:"client_id"`
	TimestampMicros int64  `json:"timestamp_micros"`
	Events          []struct {
		Name   string            `json:"name"`
		Params map[string]string `json:"params"`
	} `json:"events"`
}

func decode(t *testing.T, b []byte) wire {
	t.Helper()
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("body: %v", err)
	}
	return w
}

func noContent(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

func TestSuccessRequestShape(t *testing.T) {
	srv := uploadertest.NewServer(t, noContent)
	s, db, _ := run(t, newGoogle(srv.URL, false, 0, map[string]string{"booking": "appointment_request"}), 60, 3)
	if s.Sent != 60 || s.Requests != 3 {
		t.Fatalf("summary = %+v", s)
	}
	calls := srv.Calls()
	c := calls[0]
	if c.Method != "POST" || c.Path != "/mp/collect" || c.Query.Get("measurement_id") != "G-TEST1234" || c.Query.Get("api_secret") != secret {
		t.Errorf("request %s %s ?%v", c.Method, c.Path, c.Query)
	}
	w := decode(t, c.Body)
	if len(w.Events) != google.MaxBatch || w.ClientID == "" || w.TimestampMicros != time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).UnixMicro() {
		t.Fatalf("body = %+v", w)
	}
	e := w.Events[0]
	if e.Name != "appointment_request" || e.Params["campaign_id"] != "spring_2026" || e.Params["conversion"] != "booking" || e.Params["tally_event_id"] == "" {
		t.Errorf("event = %+v", e)
	}
	// One synthetic client per chunk, stable across retries and re-runs.
	if decode(t, calls[1].Body).ClientID == w.ClientID {
		t.Error("two chunks share a client_id")
	}
	reqs, _ := db.UploadRequests(context.Background(), "google")
	if !strings.Contains(reqs[0].URL, "measurement_id=G-TEST1234") || strings.Contains(reqs[0].URL, "api_secret") || strings.Contains(reqs[0].URL, secret) {
		t.Errorf("stored URL %q", reqs[0].URL)
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
		// GA4 took nothing: a 429 is retried (a 5xx is not, see
		// TestUnknownOutcomeIsNotResent).
		{"429 with Retry-After", 429, "error_429.html", []string{"Retry-After", "11"}, 11 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					uploadertest.Canned(t, w, tt.status, tt.file, tt.header...)
					return
				}
				noContent(n, c, w, r)
			})
			s, _, sleeps := run(t, newGoogle(srv.URL, false, 0, nil), 20, 3)
			if s.Sent != 20 || s.Retries != 1 {
				t.Fatalf("summary = %+v", s)
			}
			if got := sleeps.All(); len(got) != 1 || got[0] != tt.sleep {
				t.Errorf("sleeps = %v", got)
			}
			calls := srv.Calls()
			if string(calls[0].Body) != string(calls[1].Body) {
				t.Error("GA4 retry must resend the same bytes")
			}
		})
	}
}

func TestPermanentErrors(t *testing.T) {
	// GA4 refusing the request itself (debug endpoint: unknown measurement id).
	srv := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		uploadertest.Canned(t, w, 200, "validation_bad_request.json")
	})
	s, db, _ := run(t, newGoogle(srv.URL, true, 0, nil), 20, 5)
	if s.Requests != 1 || s.Failed != 20 || len(srv.Calls()) != 1 || srv.Calls()[0].Path != "/debug/mp/collect" {
		t.Fatalf("summary = %+v, calls %d", s, len(srv.Calls()))
	}
	if u := uploadertest.Uploads(t, db, "google")[0]; !strings.Contains(u.LastError, "Unable to find measurement_id") {
		t.Errorf("last_error = %q", u.LastError)
	}
	// A name GA4 would silently drop never leaves: checked locally.
	srv2 := uploadertest.NewServer(t, noContent)
	s, db, _ = run(t, newGoogle(srv2.URL, false, 0, map[string]string{"booking": strings.Repeat("x", 41)}), 20, 3)
	if len(srv2.Calls()) != 0 || s.Failed != 20 {
		t.Fatalf("sent %d requests with an invalid name: %+v", len(srv2.Calls()), s)
	}
	if u := uploadertest.Uploads(t, db, "google")[0]; u.State != tally.Failed || !strings.Contains(u.LastError, "over 40 characters") || u.Next != 0 {
		t.Errorf("upload = %+v", u)
	}
}

func TestValidateBisectsToBadEvent(t *testing.T) {
	bad := batch.EventID(uploadertest.Key, "google", day, "spring_2026", "booking", 10)
	srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, r *http.Request) {
		if c.Path == "/debug/mp/collect" {
			if strings.Contains(string(c.Body), bad) {
				uploadertest.Canned(t, w, 200, "validation_bad_event.json")
			} else {
				uploadertest.Canned(t, w, 200, "validation_ok.json")
			}
			return
		}
		noContent(n, c, w, r)
	})
	s, db, _ := run(t, newGoogle(srv.URL, true, 0, nil), 25, 3)
	if s.Sent != 24 || s.Failed != 1 {
		t.Fatalf("summary = %+v", s)
	}
	collected := 0
	for _, c := range srv.Calls() {
		if c.Path == "/mp/collect" {
			if strings.Contains(string(c.Body), bad) {
				t.Error("the invalid event reached /mp/collect")
			}
			collected += len(decode(t, c.Body).Events)
		}
	}
	if collected != 24 {
		t.Errorf("collected %d events, want 24", collected)
	}
	if u := uploadertest.Uploads(t, db, "google")[0]; u.Rejected != 1 || !strings.Contains(u.LastError, "too long") {
		t.Errorf("upload = %+v", u)
	}
}

func TestTimeoutUnreachableCancelled(t *testing.T) {
	srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			uploadertest.Hang(r)
			return
		}
		noContent(n, c, w, r)
	})
	// A timeout is an unknown outcome (TestUnknownOutcomeIsNotResent); a
	// refused connection sent nothing and is retried.
	s, db, _ := run(t, newGoogle(uploadertest.DeadURL(t), false, 0, nil), 20, 2)
	if u := uploadertest.Uploads(t, db, "google")[0]; s.Requests != 2 || !strings.Contains(u.LastError, "network") || strings.Contains(u.LastError, secret) {
		t.Errorf("unreachable: %+v %+v", s, u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g := newGoogle(srv.URL, false, 0, nil)
	req, _ := g.Build(&batch.Batch{ChunkID: "c", Items: []batch.Conversion{{Conversion: "booking", EventID: "e", Time: now}}})
	if r := g.Send(ctx, req); r.Class != batch.Retry || !strings.Contains(r.Message, "canceled") || strings.Contains(r.Message, secret) {
		t.Errorf("cancelled: %+v", r)
	}
}

func TestLocalValidation(t *testing.T) {
	g := newGoogle("http://x", false, 0, nil)
	for name, ok := range map[string]bool{
		"booking": true, "appointment_request": true, "1booking": false, "book-ing": false,
		"google_booking": false, "session_start": false, strings.Repeat("a", 40): true, strings.Repeat("a", 41): false,
	} {
		g2 := newGoogle("http://x", false, 0, map[string]string{"booking": name})
		_, err := g2.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "booking", Time: now}}})
		if (err == nil) != ok {
			t.Errorf("name %q: err = %v, want ok=%v", name, err, ok)
		}
	}
	items := make([]batch.Conversion, 26)
	if _, err := g.Build(&batch.Batch{Items: items}); err == nil {
		t.Error("26 events accepted")
	}
}
