package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// Credentials the fake platforms expect.
var fakeSecrets = map[string]string{
	"TALLY_META_TOKEN":     "meta-SECRET-token-1f9a",
	"TALLY_GA4_API_SECRET": "ga4-SECRET-apisecret-77c2",
	"TALLY_TIKTOK_TOKEN":   "tiktok-SECRET-token-0b3e",
	"TALLY_LINKEDIN_TOKEN": "linkedin-SECRET-token-4d5d",
}

func setSecrets(t *testing.T) {
	for k, v := range fakeSecrets {
		t.Setenv(k, v)
	}
}

// fakePlatforms answers like the four platforms and records every id it
// acknowledged. hold, when set, runs before a request is acknowledged and
// returns false to leave it unacknowledged; after runs once the answer is
// written (the kill test uses both).
type fakePlatforms struct {
	*httptest.Server
	t        testing.TB
	mu       sync.Mutex
	acked    map[string]map[string]int // platform -> event id -> times acknowledged
	requests map[string]int
	ga4      map[string]int // GA4 request body -> times acknowledged
	ga4Seen  map[string]int // GA4 request body -> times received, answered or not
	hold     func(platform string, n int, r *http.Request) bool
	after    func(platform string, n int, w http.ResponseWriter)
}

func newFakePlatforms(t testing.TB) *fakePlatforms {
	f := &fakePlatforms{t: t, acked: map[string]map[string]int{}, requests: map[string]int{}, ga4: map[string]int{},
		ga4Seen: map[string]int{}}
	for _, p := range []string{"meta", "google", "tiktok", "linkedin"} {
		f.acked[p] = map[string]int{}
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakePlatforms) serve(w http.ResponseWriter, r *http.Request) {
	var platform string
	var cred bool
	switch {
	case strings.HasSuffix(r.URL.Path, "/events"):
		platform, cred = "meta", r.URL.Query().Get("access_token") == fakeSecrets["TALLY_META_TOKEN"]
	case r.URL.Path == "/mp/collect":
		platform, cred = "google", r.URL.Query().Get("api_secret") == fakeSecrets["TALLY_GA4_API_SECRET"]
	case r.URL.Path == "/open_api/v1.3/event/track/":
		platform, cred = "tiktok", r.Header.Get("Access-Token") == fakeSecrets["TALLY_TIKTOK_TOKEN"]
	case r.URL.Path == "/rest/conversionEvents":
		platform, cred = "linkedin", r.Header.Get("Authorization") == "Bearer "+fakeSecrets["TALLY_LINKEDIN_TOKEN"]
	default:
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if !cred {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"status":401,"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"Invalid access token"}`)
		return
	}
	f.mu.Lock()
	f.requests[platform]++
	n := f.requests[platform]
	if platform == "google" {
		f.ga4Seen[string(body)]++
	}
	hold, after := f.hold, f.after
	f.mu.Unlock()
	if hold != nil && !hold(platform, n, r) {
		return // nothing acknowledged
	}
	if after != nil {
		defer after(platform, n, w)
	}
	ids, err := eventIDs(platform, body)
	if err != nil {
		f.t.Errorf("%s: bad body: %v", platform, err)
		w.WriteHeader(400)
		return
	}
	f.mu.Lock()
	for _, id := range ids {
		f.acked[platform][id]++
	}
	if platform == "google" {
		f.ga4[string(body)]++
	}
	f.mu.Unlock()
	switch platform {
	case "meta":
		fmt.Fprintf(w, `{"events_received":%d,"messages":[],"fbtrace_id":"AbC"}`, len(ids))
	case "google":
		// Never reuse a GA4 connection: the kill test holds one handler open
		// after its complete 204, and a client reusing that connection for
		// another platform's request would wait on it until the kill.
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusNoContent)
	case "tiktok":
		fmt.Fprint(w, `{"code":0,"message":"OK","request_id":"2026","data":{}}`)
	case "linkedin":
		fmt.Fprintf(w, `{"elements":[%s]}`, strings.TrimSuffix(strings.Repeat(`{"status":201},`, len(ids)), ","))
	}
}

// eventIDs pulls each conversion's dedup id out of a platform body.
func eventIDs(platform string, body []byte) ([]string, error) {
	var v struct {
		Data []struct {
			EventID string `json:"event_id"`
		} `json:"data"`
		Events []struct {
			Params map[string]string `json:"params"`
		} `json:"events"`
		Elements []struct {
			EventID string `json:"eventId"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	var ids []string
	for _, d := range v.Data {
		ids = append(ids, d.EventID)
	}
	for _, e := range v.Events {
		ids = append(ids, e.Params["tally_event_id"])
	}
	for _, e := range v.Elements {
		ids = append(ids, e.EventID)
	}
	return ids, nil
}

// distinct returns how many ids platform acknowledged, and how many
// acknowledgements were repeats.
func (f *fakePlatforms) distinct(platform string) (ids, repeats int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return countRepeats(f.acked[platform])
}

// countRepeats returns how many keys counts holds, and by how much their
// counts exceed one each.
func countRepeats(counts map[string]int) (keys, repeats int) {
	for _, n := range counts {
		keys++
		repeats += n - 1
	}
	return keys, repeats
}

// countdown returns arrive, to be called n times from any goroutine, and
// a channel closed on the n-th call: the kill tests wait on it until every
// platform has a request at the point they want to kill.
func countdown(n int) (arrive func(), done <-chan struct{}) {
	var mu sync.Mutex
	ch := make(chan struct{})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if n--; n == 0 {
			close(ch)
		}
	}, ch
}

// ga4Received counts GA4 request bodies received more than once, whether
// or not they were acknowledged: GA4 may count a request it never
// answered.
func (f *fakePlatforms) ga4Received() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, again := countRepeats(f.ga4Seen)
	return again
}

// total counts the requests the platforms received with the right
// credential, acknowledged or not.
func (f *fakePlatforms) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.requests {
		n += c
	}
	return n
}

// fakeUploaders is the config of all four uploaders pointed at endpoint,
// unthrottled, with LinkedIn rules for both test conversions.
func fakeUploaders(endpoint string) string {
	var b strings.Builder
	for _, u := range []struct{ platform, id string }{
		{"meta", `dataset_id = "123456"`},
		{"google", `measurement_id = "G-TEST"`},
		{"tiktok", `event_source_id = "777"`},
		{"linkedin", ""},
	} {
		fmt.Fprintf(&b, "[uploaders.%s]\nenabled = true\nendpoint = %q\n%s\nrate = 100000.0\n", u.platform, endpoint, u.id)
	}
	return b.String() + "[uploaders.linkedin.rules]\nbooking = \"111\"\nlead = \"222\"\n"
}

// ga4Uploader is the config of GA4 alone, pointed at endpoint and
// unthrottled.
func ga4Uploader(endpoint string) string {
	return fmt.Sprintf("[uploaders.google]\nenabled = true\nendpoint = %q\nmeasurement_id = \"G-TEST\"\nrate = 100000.0\n", endpoint)
}

// uploadFixture writes a config with all four uploaders pointed at
// endpoint and seeds released cells for 2026-11-20.
func uploadFixture(t testing.TB, endpoint string, cells ...uploadertest.Released) (cfgPath, dbPath string) {
	return seededFixture(t, fakeUploaders(endpoint), cells...)
}

// seededFixture writes a config in a new folder, its database and key
// beside it, with the uploaders' tables (fakeUploaders, ga4Uploader), and
// seeds released cells.
func seededFixture(t testing.TB, uploaders string, cells ...uploadertest.Released) (cfgPath, dbPath string) {
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "tally.db")
	cfgPath = filepath.Join(dir, "tally.toml")
	cfg := fmt.Sprintf("[store]\npath = %q\nkey_file = %q\n", dbPath, filepath.Join(dir, "tally.key")) + uploaders
	write(t, cfgPath, cfg)
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	uploadertest.Seed(t, db, cells...)
	return cfgPath, dbPath
}

// credentialedUpload is uploadFixture pointed at new fake platforms, with
// the fake credentials in the environment.
func credentialedUpload(t *testing.T, cells ...uploadertest.Released) (f *fakePlatforms, cfgPath, dbPath string) {
	t.Helper()
	f = newFakePlatforms(t)
	cfgPath, dbPath = uploadFixture(t, f.URL, cells...)
	setSecrets(t)
	return f, cfgPath, dbPath
}

func allPlatforms(n int) []uploadertest.Released {
	var out []uploadertest.Released
	for _, p := range tally.UploadPlatforms {
		out = append(out,
			uploadertest.Released{Day: "2026-11-20", Platform: p, Campaign: "cmp1", Conversion: "booking", N: n},
			uploadertest.Released{Day: "2026-11-20", Platform: p, Campaign: "", Conversion: "lead", N: 11})
	}
	return out
}

const uploadNow = "2026-11-21T06:00:00Z"

func TestUploadMissingCredentialIsUsageError(t *testing.T) {
	f, cfg, _ := credentialedUpload(t, allPlatforms(20)...)
	t.Setenv("TALLY_TIKTOK_TOKEN", "")
	code, _, stderr := runTally(t, "upload", "--config", cfg, "--now", uploadNow)
	if code != exitUsage || !strings.Contains(stderr, "TALLY_TIKTOK_TOKEN") || !strings.Contains(stderr, "uploaders.tiktok.access_token_env") {
		t.Fatalf("exit %d, stderr %q; want 2 naming the variable", code, stderr)
	}
	if n := f.total(); n != 0 {
		t.Errorf("%d requests sent before the missing credential was reported", n)
	}
}

func TestUploadSendsEveryPlatform(t *testing.T) {
	f, cfg, dbPath := credentialedUpload(t, allPlatforms(30)...)
	code, stdout, stderr := runTally(t, "upload", "--config", cfg, "--now", uploadNow)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"meta: 41 sent, 0 failed, 0 expired, 1 requests, 0 retries",
		"google: 41 sent, 0 failed, 0 expired, 3 requests, 0 retries",
		"tiktok: 41 sent, 0 failed, 0 expired, 1 requests, 0 retries",
		"linkedin: 41 sent, 0 failed, 0 expired, 1 requests, 0 retries",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, p := range []string{"meta", "google", "tiktok", "linkedin"} {
		if ids, repeats := f.distinct(p); ids != 41 || repeats != 0 {
			t.Errorf("%s: %d ids, %d repeats", p, ids, repeats)
		}
	}
	// Nothing left: a second run sends nothing.
	code, stdout, _ = runTally(t, "upload", "--config", cfg, "--now", uploadNow)
	if code != 0 || !strings.Contains(stdout, "meta: 0 sent, 0 failed, 0 expired, 0 requests") {
		t.Errorf("second run: exit %d\n%s", code, stdout)
	}
	_ = dbPath
}

func TestUploadDryRunNeedsNoCredentials(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, dbPath := uploadFixture(t, f.URL, allPlatforms(30)...)
	for k := range fakeSecrets {
		t.Setenv(k, "")
	}
	code, stdout, stderr := runTally(t, "upload", "--config", cfg, "--now", uploadNow, "--dry-run", "--platform", "meta")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "meta: 0 sent") || !strings.Contains(stdout, "41 dry run") || strings.Contains(stdout, "google:") {
		t.Errorf("stdout:\n%s", stdout)
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(dbPath), "outbox", "meta", "*.json"))
	if len(files) != 1 {
		t.Fatalf("outbox = %v", files)
	}
	body := mustRead(t, files[0])
	if ids, err := eventIDs("meta", body); err != nil || len(ids) != 41 {
		t.Errorf("outbox body holds %d events (%v)", len(ids), err)
	}
	if f.total() != 0 {
		t.Error("a dry run sent requests")
	}
	// The real run then sends what the dry run previewed: the same bytes.
	setSecrets(t)
	if code, _, stderr := runTally(t, "upload", "--config", cfg, "--now", uploadNow, "--platform", "meta"); code != 0 {
		t.Fatalf("real run: exit %d: %s", code, stderr)
	}
	db, _ := store.Open(context.Background(), dbPath, store.Options{})
	defer db.Close()
	reqs, _ := db.UploadRequests(context.Background(), "meta")
	if len(reqs) != 1 || reqs[0].Body != string(body) {
		t.Error("the real request differs from the dry-run body")
	}
}

func TestUploadFlags(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, _ := uploadFixture(t, f.URL)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--platform", "myspace"}, `unknown platform "myspace"`},
		{[]string{"--date", "2026-13-01"}, `--date: bad day "2026-13-01"`},
	} {
		code, _, stderr := runTally(t, append([]string{"upload", "--config", cfg}, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, stderr)
		}
	}
	// A disabled platform named on the command line is a usage error.
	dir := t.TempDir()
	plain := write(t, filepath.Join(dir, "plain.toml"), fmt.Sprintf("[store]\npath = %q\nkey_file = %q\n", filepath.Join(dir, "t.db"), filepath.Join(dir, "k")))
	if code, _, stderr := runTally(t, "upload", "--config", plain, "--platform", "meta"); code != exitUsage || !strings.Contains(stderr, "uploaders.meta.enabled is false") {
		t.Errorf("disabled platform: exit %d, %q", code, stderr)
	}
	if code, stdout, _ := runTally(t, "upload", "--config", plain); code != 0 || !strings.Contains(stdout, "no uploader enabled") {
		t.Errorf("no uploader: exit %d, %q", code, stdout)
	}
}

func TestUploadFailureExitsOne(t *testing.T) {
	_, cfg, _ := credentialedUpload(t, allPlatforms(12)...)
	t.Setenv("TALLY_LINKEDIN_TOKEN", "wrong-token")
	code, stdout, stderr := runTally(t, "upload", "--config", cfg, "--now", uploadNow)
	if code != exitFailure || !strings.Contains(stdout, "linkedin: 0 sent, 23 failed") || !strings.Contains(stdout, "meta: 23 sent") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "wrong-token") {
		t.Error("token in output")
	}
}
