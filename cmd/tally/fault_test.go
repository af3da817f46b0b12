package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// faultServer puts a fault in front of a fakePlatforms: fault sees every
// request with the number of times its exact body has arrived (1 on the
// first attempt, 2 on the first retry...) and either answers it itself
// (returning true) or lets the fake platform acknowledge it.
type faultServer struct {
	*httptest.Server
	fake     *fakePlatforms
	mu       sync.Mutex
	attempts map[string]int // platform + body hash -> arrivals
}

func newFaultServer(t *testing.T, f *fakePlatforms, fault func(platform string, attempt int, w http.ResponseWriter, r *http.Request) bool) *faultServer {
	s := &faultServer{fake: f, attempts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		platform := platformOf(r.URL.Path)
		s.mu.Lock()
		key := fmt.Sprintf("%s %x", platform, sha256.Sum256(body))
		s.attempts[key]++
		n := s.attempts[key]
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if platform != "" && fault(platform, n, w, r) {
			return
		}
		f.serve(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// platformOf names the platform a fake endpoint path belongs to.
func platformOf(path string) string {
	switch {
	case strings.HasSuffix(path, "/events"):
		return "meta"
	case path == "/mp/collect":
		return "google"
	case path == "/open_api/v1.3/event/track/":
		return "tiktok"
	case path == "/rest/conversionEvents":
		return "linkedin"
	}
	return ""
}

// assertExactlyOnce checks that every platform acknowledged each of its
// conversions exactly once, and that the ledger agrees.
func assertExactlyOnce(t *testing.T, f *fakePlatforms, dbPath string, platforms ...string) {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range platforms {
		want := 0
		for _, c := range allPlatforms(30) {
			if string(c.Platform) == p {
				want += c.N
			}
		}
		if ids, repeats := f.distinct(p); ids != want || repeats != 0 {
			t.Errorf("%s: %d distinct conversions acknowledged (%d repeats), want %d exactly once", p, ids, repeats, want)
		}
		for _, u := range uploadertest.Uploads(t, db, tally.Platform(p)) {
			if u.State != tally.Sent || u.Acked != u.Count {
				t.Errorf("%s: ledger row %+v, want sent and fully acknowledged", p, u)
			}
		}
	}
}

// TestRunRetriesEachPlatformsTransientFaults fails the first attempt of
// every request with the platform's own transient answer. Everything must
// end delivered exactly once, each request sent exactly twice, exit 0.
func TestRunRetriesEachPlatformsTransientFaults(t *testing.T) {
	f := newFakePlatforms(t)
	var mu sync.Mutex
	faults := map[string]int{}
	s := newFaultServer(t, f, func(platform string, attempt int, w http.ResponseWriter, r *http.Request) bool {
		if attempt > 1 {
			return false
		}
		mu.Lock()
		faults[platform]++
		mu.Unlock()
		switch platform {
		case "meta":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","is_transient":true,"code":2,"fbtrace_id":"AxYz"}}`)
		case "google":
			// 429: GA4 took nothing. A 5xx is an unknown outcome that GA4
			// never gets twice (TestUploadResendUncertain).
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case "tiktok":
			fmt.Fprint(w, `{"code":40100,"message":"Too many requests. Please retry in some time.","request_id":"20261121"}`)
		case "linkedin":
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"status":429,"code":"TOO_MANY_REQUESTS","message":"Resource level throttle limit reached"}`)
		}
		return true
	})
	cfg, dbPath := uploadFixture(t, s.URL, allPlatforms(30)...)
	code, stdout, stderr := runBinary(t, nil, "--config", cfg, "--now", uploadNow, "run")
	if code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	// Each platform has two cells (30 and 11 conversions): one request,
	// except GA4 (25 per request, one cell per request): 25+5, 11.
	for p, reqs := range map[string]int{"meta": 1, "google": 3, "tiktok": 1, "linkedin": 1} {
		want := fmt.Sprintf("%s: 41 sent, 0 failed, 0 expired, %d requests, %d retries", p, 2*reqs, reqs)
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
		if faults[p] != reqs {
			t.Errorf("%s: %d first attempts failed, want %d", p, faults[p], reqs)
		}
	}
	if n := strings.Count(stderr, "msg=retrying"); n != 6 {
		t.Errorf("%d retries logged, want 6:\n%s", n, stderr)
	}
	assertExactlyOnce(t, f, dbPath, "meta", "google", "tiktok", "linkedin")
	// The ledger holds both attempts of every request, the failed one with
	// the platform's answer verbatim.
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := sqlfile.Open(t, db.Path).Query(`SELECT platform, attempt, status, coalesce(response, '') FROM upload_requests ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	wantFirst := map[string]string{"meta": `"code":2`, "google": "", "tiktok": `"code":40100`, "linkedin": "TOO_MANY_REQUESTS"}
	wantStatus := map[string]int{"meta": 500, "google": 429, "tiktok": 200, "linkedin": 429}
	for rows.Next() {
		var p, resp string
		var attempt, status int
		if err := rows.Scan(&p, &attempt, &status, &resp); err != nil {
			t.Fatal(err)
		}
		if attempt == 1 && (status != wantStatus[p] || !strings.Contains(resp, wantFirst[p])) {
			t.Errorf("%s first attempt recorded as %d %q", p, status, resp)
		}
	}
}

// TestRunSurvivesAHangingPlatform makes TikTok hang past its client
// timeout on the first attempt of every request. The hung request must
// time out and be retried, and the other platforms must finish their
// whole delivery while it hangs: one slow platform never blocks another.
func TestRunSurvivesAHangingPlatform(t *testing.T) {
	f := newFakePlatforms(t)
	othersDone := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var hung, timedOut int
	othersFinishedFirst := true
	stop := make(chan struct{})
	s := newFaultServer(t, f, func(platform string, attempt int, w http.ResponseWriter, r *http.Request) bool {
		if platform != "tiktok" {
			defer func() {
				m, _ := f.distinct("meta")
				g, _ := f.distinct("google")
				l, _ := f.distinct("linkedin")
				if m == 41 && g == 41 && l == 41 {
					once.Do(func() { close(othersDone) })
				}
			}()
			f.serve(w, r)
			return true
		}
		if attempt > 1 {
			return false
		}
		mu.Lock()
		hung++
		mu.Unlock()
		select {
		case <-othersDone:
			// The client is still waiting for TikTok; now make it give up.
			<-r.Context().Done()
		case <-r.Context().Done():
			mu.Lock()
			othersFinishedFirst = false
			mu.Unlock()
		case <-stop:
			return true
		}
		mu.Lock()
		timedOut++
		mu.Unlock()
		return true
	})
	t.Cleanup(func() { close(stop) }) // runs before the server's Close
	cfg, dbPath := uploadFixture(t, s.URL, allPlatforms(30)...)
	// Three seconds: the other platforms' whole delivery (a handful of
	// requests) must fit inside one hung TikTok request.
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(b, []byte("[uploaders.tiktok]\n"), []byte("[uploaders.tiktok]\ntimeout = \"3s\"\n"), 1), 0o600)

	start := time.Now()
	code, stdout, stderr := runBinary(t, nil, "--config", cfg, "--now", uploadNow, "run")
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if hung != 1 || timedOut != 1 {
		t.Errorf("TikTok hung %d requests, %d timed out by the client; want 1 and 1", hung, timedOut)
	}
	if !othersFinishedFirst {
		t.Error("the other platforms did not finish while TikTok hung: a slow platform blocked the others")
	}
	if took < 3*time.Second {
		t.Errorf("run took %s: the 3s timeout did not apply", took)
	}
	if !strings.Contains(stdout, "tiktok: 41 sent, 0 failed, 0 expired, 2 requests, 1 retries") {
		t.Errorf("summary:\n%s", stdout)
	}
	assertExactlyOnce(t, f, dbPath, "meta", "google", "tiktok", "linkedin")
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status int
	var msg string
	if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT coalesce(status, 0), coalesce(error, '') FROM upload_requests
		WHERE platform = 'tiktok' AND attempt = 1`).Scan(&status, &msg); err != nil {
		t.Fatal(err)
	}
	if status != 0 || !strings.Contains(msg, "timeout") {
		t.Errorf("hung TikTok request recorded as status %d error %q, want no status and a timeout", status, msg)
	}
}

// TestRunAuthFaultsFailClearly answers 401 or 403, in each platform's own
// shape, to every request. Each platform must end failed after one attempt
// with a message naming the platform and the refusal, the run exits 1,
// and no token appears in the output or the database.
func TestRunAuthFaultsFailClearly(t *testing.T) {
	f := newFakePlatforms(t)
	s := newFaultServer(t, f, func(platform string, attempt int, w http.ResponseWriter, r *http.Request) bool {
		switch platform {
		case "meta":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AxYz"}}`)
		case "google":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}`)
		case "tiktok":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":40001,"message":"Access token is invalid or has expired.","request_id":"20261121"}`)
		case "linkedin":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Not enough permissions to access: conversionEvents.BATCH_CREATE"}`)
		}
		return true
	})
	cfg, dbPath := uploadFixture(t, s.URL, allPlatforms(30)...)
	code, stdout, stderr := runBinary(t, nil, "--config", cfg, "--now", uploadNow, "run")
	if code != exitFailure {
		t.Fatalf("run: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	for p, why := range map[string]string{
		"meta":     "HTTP 401: code 190/463: Error validating access token",
		"google":   "HTTP 403",
		"tiktok":   "HTTP 401",
		"linkedin": "HTTP 403: Not enough permissions",
	} {
		line := regexp.MustCompile(`(?m)^` + p + `: 0 sent, 41 failed, 0 expired, 1 requests, 0 retries — stopped: .*$`).FindString(stdout)
		if line == "" || !strings.Contains(line, p+": "+why) || !strings.Contains(line, "credential refused") {
			t.Errorf("%s: summary line %q does not name the refusal %q\n%s", p, line, why, stdout)
		}
		if n := f.requests[p]; n != 0 {
			t.Errorf("%s: %d requests acknowledged", p, n)
		}
	}
	if !strings.Contains(stdout, "run: 4 step(s) failed") {
		t.Errorf("run status:\n%s", stdout)
	}
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"meta", "google", "tiktok", "linkedin"} {
		for _, u := range uploadertest.Uploads(t, db, tally.Platform(p)) {
			if u.State != tally.Failed || u.Acked != 0 || !strings.Contains(u.LastError, p+": HTTP 40") || !strings.Contains(u.LastError, "credential refused") {
				t.Errorf("%s: ledger row %+v, want failed naming the refusal", p, u)
			}
		}
	}
	db.Close()
	scan := map[string][]byte{"stdout": []byte(stdout), "stderr": []byte(stderr)}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(dbPath + suffix); err == nil {
			scan[filepath.Base(dbPath)+suffix] = b
		}
	}
	for name, b := range scan {
		for env, secret := range fakeSecrets {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("SECRET LEAK: %s found in %s", env, name)
			}
		}
	}
}
