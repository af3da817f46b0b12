package intake_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/intake"
)

// limitedServer is an intake whose per-client limit runs on a test clock.
type limitedServer struct {
	h    http.Handler
	now  time.Time
	lim  *intake.ClientLimits
	logs *bytes.Buffer
}

func newLimited(t *testing.T, perSecond float64, burst, maxClients int) *limitedServer {
	t.Helper()
	f := newFixture(t, nil)
	f.in.Metrics = intake.NewMetrics()
	ls := &limitedServer{now: testNow, logs: &bytes.Buffer{}}
	s := intake.NewServer(f.in, f.db, f.db, slog.New(slog.NewTextHandler(ls.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ls.lim = intake.NewClientLimits(perSecond, burst, maxClients)
	ls.lim.Now = func() time.Time { return ls.now }
	s.Limits = ls.lim
	ls.h = s.Handler()
	return ls
}

// do sends one request from addr and returns the status and Retry-After.
func (ls *limitedServer) do(method, path, addr string) (int, string) {
	body := ev("e", "appointment_booked", "nobody", "")
	if path == "/v1/consent" {
		body = `{"visitor_id":"nobody","purposes":{"advertising":false}}`
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	ls.h.ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("Retry-After")
}

// TestRateLimitPerClient: each client gets its burst, then 429 with
// Retry-After until its bucket refills; other clients are not affected; an
// IPv6 client is its /64; loopback (a local reverse proxy) is not limited;
// both intake routes count.
func TestRateLimitPerClient(t *testing.T) {
	ls := newLimited(t, 0.25, 3, 0)
	a := "192.0.2.1:40000"
	for i, path := range []string{"/v1/events", "/v1/consent", "/v1/events"} {
		if code, _ := ls.do("POST", path, a); code != 200 {
			t.Fatalf("request %d within the burst: %d, want 200", i, code)
		}
	}
	if code, retry := ls.do("POST", "/v1/events", a); code != 429 || retry != "4" {
		t.Errorf("over the burst: %d Retry-After %q, want 429 and 4 (one token at 0.25/s)", code, retry)
	}
	if code, _ := ls.do("POST", "/v1/consent", "192.0.2.1:40001"); code != 429 {
		t.Errorf("same address, other port, consent route: %d, want 429", code)
	}
	if code, _ := ls.do("POST", "/v1/events", "192.0.2.2:40000"); code != 200 {
		t.Errorf("another client: %d, want 200", code)
	}
	ls.now = ls.now.Add(4 * time.Second)
	if code, _ := ls.do("POST", "/v1/events", a); code != 200 {
		t.Errorf("after Retry-After: %d, want 200", code)
	}
	if code, _ := ls.do("POST", "/v1/events", a); code != 429 {
		t.Errorf("refused requests must not have earned tokens: %d, want 429", code)
	}

	for i := 0; i < 3; i++ {
		ls.do("POST", "/v1/events", fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1))
	}
	if code, _ := ls.do("POST", "/v1/events", "[2001:db8:1:2:ffff::9]:443"); code != 429 {
		t.Errorf("a fourth address of the same IPv6 /64: %d, want 429", code)
	}
	for i := 0; i < 10; i++ {
		if code, _ := ls.do("POST", "/v1/events", "127.0.0.1:5000"); code != 200 {
			t.Fatalf("loopback request %d: %d, want 200 (not limited)", i, code)
		}
	}
}

// TestRateLimitBoundedAndNeverLogged: however many addresses send, the
// limiter keeps at most its bound of buckets, and no client address
// appears in the log, the metrics or a response.
func TestRateLimitBoundedAndNeverLogged(t *testing.T) {
	ls := newLimited(t, 1, 1, 100)
	for i := 0; i < 5000; i++ {
		addr := fmt.Sprintf("198.51.%d.%d:1234", i/250, i%250+1)
		ls.do("GET", "/v1/events", addr)
		if code, _ := ls.do("GET", "/v1/events", addr); code != 429 {
			t.Fatalf("client %d: second request %d, want 429", i, code)
		}
	}
	if n := ls.lim.Len(); n > 100 {
		t.Errorf("%d buckets kept, want at most 100", n)
	}
	req := httptest.NewRequest("GET", "/metrics", nil)
	rec := httptest.NewRecorder()
	ls.h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `code="429"`) {
		t.Errorf("metrics do not count the 429s:\n%s", rec.Body)
	}
	for name, text := range map[string]string{"log": ls.logs.String(), "metrics": rec.Body.String()} {
		if strings.Contains(text, "198.51.") {
			t.Errorf("a client address in the %s", name)
		}
	}
}

// TestRateLimitConfig: the defaults are on, 0 turns the limit off, and
// bad values are rejected naming the key.
func TestRateLimitConfig(t *testing.T) {
	d := config.Default().Intake
	if d.RatePerClient != 20 || d.BurstPerClient != 100 {
		t.Errorf("defaults %v/s burst %d, want 20/s burst 100", d.RatePerClient, d.BurstPerClient)
	}
	if intake.NewClientLimits(0, 100, 0) != nil {
		t.Error("rate_per_client = 0 must turn the limit off")
	}
	for _, tt := range []struct {
		mod func(*config.Intake)
		key string
	}{
		{func(in *config.Intake) { in.RatePerClient = -1 }, "intake.rate_per_client"},
		{func(in *config.Intake) { in.BurstPerClient = 0 }, "intake.burst_per_client"},
	} {
		c := config.Default()
		tt.mod(&c.Intake)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("Validate: %v, want an error naming %s", err, tt.key)
		}
	}
}
