package linkedin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/store/storetest"
	"github.com/tally-health/tally/uploaders/linkedin"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

const token = "AQV-linkedin-token-never-stored"

var (
	day = tally.Day("2026-11-20")
	now = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
)

func newLinkedIn(endpoint string, timeout time.Duration) *linkedin.LinkedIn {
	return linkedin.New(linkedin.Config{Endpoint: endpoint, Version: "202411",
		Rules: map[string]string{"booking": "12345678"}, Token: tally.NewSecret(token), Timeout: timeout})
}

func run(t *testing.T, endpoint string, n, attempts int, timeout time.Duration) (batch.Summary, *store.DB, *uploadertest.Sleeps) {
	t.Helper()
	db := storetest.Open(t)
	uploadertest.Seed(t, db, uploadertest.Released{Day: day, Platform: "linkedin", Campaign: "555", Conversion: "booking", N: n})
	d, sleeps := uploadertest.Delivery(db, now)
	s := d.Run(context.Background(), []batch.Target{uploadertest.Target(newLinkedIn(endpoint, timeout), attempts)})[0]
	return s, db, sleeps
}

type wire struct {
	Elements []struct {
		Conversion           string              `json:"conversion"`
		ConversionHappenedAt int64               `json:"conversionHappenedAt"`
		ConversionValue      map[string]any      `json:"conversionValue"`
		EventID              string              `json:"eventId"`
		User                 map[string][]string `json:"user"`
	} `json:"elements"`
}

func decode(t *testing.T, b []byte) wire {
	t.Helper()
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("body: %v", err)
	}
	return w
}

// statuses answers 200 with one element status per conversion; bad ones
// get an element error.
func statuses(t *testing.T, w http.ResponseWriter, body []byte, bad func(eventID string) bool) {
	var out []string
	for _, e := range decode(t, body).Elements {
		if bad != nil && bad(e.EventID) {
			out = append(out, `{"status":400,"error":{"status":400,"message":"/conversionHappenedAt :: invalid"}}`)
			continue
		}
		out = append(out, `{"status":201}`)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"elements":[%s]}`, strings.Join(out, ","))
}

func TestSuccessRequestShape(t *testing.T) {
	srv := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		statuses(t, w, c.Body, nil)
	})
	s, db, _ := run(t, srv.URL, 5001, 3, 0)
	if s.Sent != 5001 || s.Requests != 2 {
		t.Fatalf("summary = %+v", s)
	}
	c := srv.Calls()[0]
	if c.Method != "POST" || c.Path != "/rest/conversionEvents" || len(c.Query) != 0 {
		t.Errorf("request %s %s", c.Method, c.Path)
	}
	for h, want := range map[string]string{
		"Authorization": "Bearer " + token, "Linkedin-Version": "202411", "X-Restli-Protocol-Version": "2.0.0",
		"X-Restli-Method": "BATCH_CREATE", "Content-Type": "application/json",
	} {
		if got := c.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	w := decode(t, c.Body)
	if len(w.Elements) != linkedin.MaxBatch {
		t.Fatalf("%d elements", len(w.Elements))
	}
	e := w.Elements[0]
	if e.Conversion != "urn:lla:llaPartnerConversion:12345678" || e.ConversionHappenedAt != time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).UnixMilli() {
		t.Errorf("element = %+v", e)
	}
	if e.ConversionValue["amount"] != "0" || e.ConversionValue["currencyCode"] != "USD" {
		t.Errorf("value = %v (amount must be a string)", e.ConversionValue)
	}
	if ids, ok := e.User["userIds"]; !ok || len(ids) != 0 || len(e.User["externalIds"]) != 1 || len(e.User) != 2 {
		t.Errorf("user = %v, want userIds [] and one externalId", e.User)
	}
	if !strings.Contains(string(c.Body), `"userIds":[]`) {
		t.Error("userIds must be an empty list, not null")
	}
	reqs, _ := db.UploadRequests(context.Background(), "linkedin")
	for _, r := range reqs {
		if strings.Contains(r.URL+r.Body, token) {
			t.Error("ledger holds the token")
		}
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
		{"http 503", 503, "error_503.json", nil, 500 * time.Millisecond},
		{"429 with Retry-After", 429, "error_429.json", []string{"Retry-After", "6"}, 6 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					uploadertest.Canned(t, w, tt.status, tt.file, tt.header...)
					return
				}
				statuses(t, w, c.Body, nil)
			})
			s, _, sleeps := run(t, srv.URL, 20, 3, 0)
			if s.Sent != 20 || s.Retries != 1 {
				t.Fatalf("summary = %+v", s)
			}
			if got := sleeps.All(); len(got) != 1 || got[0] != tt.sleep {
				t.Errorf("sleeps = %v", got)
			}
		})
	}
}

func TestMissingUserIDIsPermanentAndNamed(t *testing.T) {
	srv := uploadertest.NewServer(t, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		uploadertest.Canned(t, w, 422, "error_no_user_422.json")
	})
	s, db, sleeps := run(t, srv.URL, 40, 5, 0)
	// No retry, no bisection: one request, then the platform stops.
	if s.Requests != 1 || s.Failed != 40 || len(sleeps.All()) != 0 {
		t.Fatalf("summary = %+v", s)
	}
	u := uploadertest.Uploads(t, db, "linkedin")[0]
	if u.State != tally.Failed || !strings.Contains(u.LastError, "no user id") || !strings.Contains(u.LastError, "synthetic external id") ||
		!strings.Contains(u.LastError, "At least one of userIds") {
		t.Errorf("last_error = %q", u.LastError)
	}
}

func TestUnauthorizedIsPermanent(t *testing.T) {
	srv := uploadertest.NewServer(t, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		uploadertest.Canned(t, w, 401, "error_401.json")
	})
	s, db, _ := run(t, srv.URL, 10, 5, 0)
	if s.Requests != 1 || s.Failed != 10 {
		t.Fatalf("summary = %+v", s)
	}
	if u := uploadertest.Uploads(t, db, "linkedin")[0]; !strings.Contains(u.LastError, "HTTP 401: Invalid access token") {
		t.Errorf("last_error = %q", u.LastError)
	}
}

func TestBisectionIsolatesBadEvent(t *testing.T) {
	bad := batch.EventID(uploadertest.Key, "linkedin", day, "555", "booking", 3)
	srv := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		if strings.Contains(string(c.Body), bad) {
			uploadertest.Canned(t, w, 422, "error_invalid_422.json")
			return
		}
		statuses(t, w, c.Body, nil)
	})
	s, db, _ := run(t, srv.URL, 64, 3, 0)
	if s.Sent != 63 || s.Failed != 1 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	if u := uploadertest.Uploads(t, db, "linkedin")[0]; u.Rejected != 1 || !strings.Contains(u.LastError, "older than 90 days") {
		t.Errorf("upload = %+v", u)
	}
}

func TestElementLevelRejection(t *testing.T) {
	bad := batch.EventID(uploadertest.Key, "linkedin", day, "555", "booking", 7)
	srv := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		statuses(t, w, c.Body, func(id string) bool { return id == bad })
	})
	s, db, _ := run(t, srv.URL, 10, 3, 0)
	if s.Requests != 1 || s.Sent != 9 || s.Failed != 1 {
		t.Fatalf("summary = %+v", s)
	}
	if u := uploadertest.Uploads(t, db, "linkedin")[0]; u.State != tally.Partial || u.Acked != 9 || u.Rejected != 1 {
		t.Errorf("upload = %+v", u)
	}
}

func TestTimeoutUnreachableCancelled(t *testing.T) {
	srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			uploadertest.Hang(r)
			return
		}
		statuses(t, w, c.Body, nil)
	})
	if s, _, _ := run(t, srv.URL, 20, 3, 100*time.Millisecond); s.Sent != 20 || s.Retries != 1 {
		t.Errorf("timeout: %+v", s)
	}
	s, db, _ := run(t, uploadertest.DeadURL(t), 20, 2, 0)
	if u := uploadertest.Uploads(t, db, "linkedin")[0]; s.Requests != 2 || !strings.Contains(u.LastError, "network") {
		t.Errorf("unreachable: %+v %+v", s, u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := newLinkedIn(srv.URL, 0)
	req, _ := l.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "booking", EventID: "e", ExternalID: "x", Time: now}}})
	if r := l.Send(ctx, req); r.Class != batch.Retry || !strings.Contains(r.Message, "canceled") {
		t.Errorf("cancelled: %+v", r)
	}
}

func TestBuildWithoutRule(t *testing.T) {
	l := newLinkedIn("http://x", 0)
	_, err := l.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "lead", Time: now}}})
	if err == nil || !strings.Contains(err.Error(), `"lead"`) {
		t.Errorf("err = %v", err)
	}
}
