package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

func newHTTP(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	s := intake.NewServer(f.in, f.db, f.db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url, ctype, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHTTPWholeRequestErrors(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.MaxBatch = 2; o.MaxBodyBytes = 2048 })
	srv := newHTTP(t, f)
	one := ev("x", "appointment_booked", "v", "")
	tests := []struct {
		name, method, ctype, body string
		want                      int
	}{
		{"malformed JSON", "POST", "application/json", `{"event_id":`, 400},
		{"trailing garbage", "POST", "application/json", one + ` {"x":1}`, 400},
		{"trailing junk", "POST", "application/json", one + `xyz`, 400},
		{"not an object", "POST", "application/json", `"hello"`, 400},
		{"events not an array", "POST", "application/json", `{"events":{"a":1}}`, 400},
		{"over max_batch", "POST", "application/json", `{"events":[` + one + `,` + one + `,` + one + `]}`, 400},
		{"too large", "POST", "application/json", `{"pad":"` + strings.Repeat("a", 3000) + `"}`, 413},
		{"wrong content type", "POST", "application/x-www-form-urlencoded", one, 415},
		{"no content type", "POST", "", one, 415},
		{"GET", "GET", "", "", 405},
		{"PUT", "PUT", "application/json", one, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+"/v1/events", strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.want, b)
			}
			var e struct{ Error string }
			if json.Unmarshal(b, &e) != nil || e.Error == "" {
				t.Errorf("body %q is not {\"error\":...}", b)
			}
		})
	}
	var n int
	sqlfile.Open(t, f.db.Path).QueryRow(`SELECT count(*) FROM intake_outcomes`).Scan(&n)
	if n != 0 {
		t.Errorf("whole-request errors stored %d outcome rows", n)
	}
}

func TestHTTPEventsSummary(t *testing.T) {
	f := newFixture(t, nil)
	f.consent(t, "v", true, testNow.Add(-time.Hour))
	srv := newHTTP(t, f)
	body := `{"events":[` + strings.Join([]string{
		ev("1", "appointment_booked", "v", ""),
		ev("1", "appointment_booked", "v", ""),
		ev("2", "nope", "v", ""),
		`{"event":"appointment_booked"}`,
	}, ",") + `]}`
	// text/plain is what navigator.sendBeacon sends.
	resp, got := post(t, srv.URL+"/v1/events", "text/plain;charset=UTF-8", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	want := `{"accepted":1,"duplicates":1,"dropped":{"unmapped_event":1},"invalid":[{"index":3,"error":"event_id: required"}]}`
	if strings.TrimSpace(got) != want {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
	resp, got = post(t, srv.URL+"/v1/events", "application/json", ev("3", "appointment_booked", "v", `,"campaign":"q"`), "Sec-GPC", "1")
	if resp.StatusCode != 200 || !strings.Contains(got, `"gpc":1`) {
		t.Errorf("GPC request: %d %s", resp.StatusCode, got)
	}
}

func TestHTTPCORS(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.AllowedOrigins = []string{"https://clinic.example"} })
	srv := newHTTP(t, f)
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/v1/events", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := preflight("https://clinic.example"); r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://clinic.example" {
		t.Errorf("allowed preflight: %d %v", r.StatusCode, r.Header)
	}
	if r := preflight("https://evil.example"); r.StatusCode != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other preflight: %d %v", r.StatusCode, r.Header)
	}
	resp, _ := post(t, srv.URL+"/v1/events", "text/plain", ev("1", "appointment_booked", "v", ""), "Origin", "https://evil.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other-origin POST: %d, ACAO=%q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestHTTPConsent(t *testing.T) {
	f := newFixture(t, nil)
	srv := newHTTP(t, f)
	tests := []struct {
		body string
		want int
	}{
		{`{"visitor_id":"v","purposes":{"advertising":true},"source":"cmp-x","version":"policy-v3"}`, 200},
		{`{"visitor_id":"v","purposes":{"advertising":false},"time":"2026-11-20T11:00:00Z"}`, 200},
		{`{"purposes":{"advertising":true}}`, 400},
		{`{"visitor_id":"v"}`, 400},
		{`{"visitor_id":"v","purposes":{"advertising":"yes"}}`, 400},
		{`{"visitor_id":"v","purposes":{"advertising":true},"source":7}`, 400},
		{`{"visitor_id":"v","purposes":{"advertising":true}} x`, 400},
	}
	for i, tt := range tests {
		resp, body := post(t, srv.URL+"/v1/consent", "application/json", tt.body)
		if resp.StatusCode != tt.want {
			t.Errorf("case %d: status %d, want %d (%s)", i, resp.StatusCode, tt.want, body)
		}
	}
	var n int
	sqlfile.Open(t, f.db.Path).QueryRow(`SELECT count(*) FROM consents`).Scan(&n)
	if n != 2 {
		t.Errorf("consents rows = %d, want 2", n)
	}
}

type failingStore struct{}

func (failingStore) WriteIntake(context.Context, func(*store.IntakeTx) error) error {
	return errors.New("disk I/O error")
}

func TestHTTPStoreUnavailable(t *testing.T) {
	f := newFixture(t, nil)
	f.consent(t, "v", true, testNow.Add(-time.Hour))
	f.in.Writer = intake.NewWriter(failingStore{}, f.in.Pipeline.Rules(), intake.WriterOptions{QueueLen: 4, MaxEvents: 10})
	t.Cleanup(f.in.Writer.Close)
	srv := newHTTP(t, f)
	resp, body := post(t, srv.URL+"/v1/events", "application/json", ev("1", "appointment_booked", "v", ""))
	if resp.StatusCode != 503 || strings.Contains(body, "accepted") {
		t.Errorf("status %d body %s, want 503 with nothing acknowledged", resp.StatusCode, body)
	}
}

func TestHTTPHealthAndMetrics(t *testing.T) {
	f := newFixture(t, nil)
	f.in.Metrics = intake.NewMetrics()
	srv := newHTTP(t, f)
	post(t, srv.URL+"/v1/events", "application/json", ev("1", "appointment_booked", "nobody", ""))
	for path, want := range map[string]string{
		"/healthz": `"ok"`,
		"/metrics": `tally_intake_events_total{outcome="dropped",reason="no_consent"} 1`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, missing %q", path, resp.StatusCode, want)
		}
	}
}
