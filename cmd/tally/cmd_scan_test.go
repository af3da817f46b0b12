package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// scanSite is a two-page site: a home page with the Meta Pixel and a
// link to a clean page.
func scanSite(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			w.Write([]byte(`<html><head><script>fbq('init', '123456789012345');fbq('track','PageView');</script></head>
<body><a href="/clean">clean</a></body></html>`))
		case "/clean":
			w.Write([]byte(`<html><body><p>No pixels here.</p></body></html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// inEmptyDir runs the test in an empty folder with no config, so a plain
// scan has no database configured.
func inEmptyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("TALLY_CONFIG", "")
	return dir
}

func scanTally(args ...string) (code int, stdout, stderr string) {
	var out, errs bytes.Buffer
	code = run(append([]string{"scan"}, args...), strings.NewReader(""), &out, &errs)
	return code, out.String(), errs.String()
}

func TestScanJSON(t *testing.T) {
	dir := inEmptyDir(t)
	srv := scanSite(t)

	code, out, errs := scanTally(srv.URL+"/", "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (found); stderr %s", code, errs)
	}
	var rep struct {
		Findings   []map[string]string `json:"findings"`
		Truncated  []string            `json:"truncated"`
		NotChecked []map[string]string `json:"not_checked"`
		Failed     []map[string]string `json:"failed"`
		Pages      int                 `json:"pages_read"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	got := rep.Findings
	if len(got) != 1 || rep.Pages != 2 || rep.Truncated == nil || rep.NotChecked == nil || rep.Failed == nil {
		t.Fatalf("report = %+v, want 1 finding on 2 pages and empty lists", rep)
	}
	var keys []string
	for k := range got[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"evidence", "id", "page", "source", "tracker"}; !slices.Equal(keys, want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
	if f := got[0]; f["page"] != srv.URL+"/" || f["tracker"] != "meta_pixel" || f["id"] != "123456789012345" ||
		f["source"] != srv.URL+"/" || !strings.Contains(f["evidence"], "fbq('init', '123456789012345')") {
		t.Errorf("finding = %v", f)
	}
	if !strings.Contains(errs, "found 1 trackers on 1 pages") {
		t.Errorf("stderr %q: want the one-line reason", errs)
	}
	// No database was configured: a plain scan writes nothing.
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("plain scan created %v in the current folder", entries)
	}

	code, out, _ = scanTally(srv.URL+"/clean", "--format", "json", "--depth", "0")
	if code != 0 || !strings.Contains(out, `"findings": []`) || !strings.Contains(out, `"truncated": []`) {
		t.Errorf("clean page: exit %d, %q; want 0 and no findings", code, out)
	}
}

func TestScanText(t *testing.T) {
	inEmptyDir(t)
	srv := scanSite(t)
	code, out, _ := scanTally(srv.URL + "/")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		srv.URL + "/\n  meta_pixel          123456789012345\n",
		"(this page)",
		"found 1 trackers (1 kinds) on 1 of 2 pages read",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, srv.URL+"/clean\n") {
		t.Errorf("clean page listed as a finding header:\n%s", out)
	}

	if code, _, errs := scanTally(srv.URL+"/", "--fail-on", "none"); code != 0 {
		t.Errorf("--fail-on none: exit %d (%s), want 0", code, errs)
	}
}

func TestScanRecordsWhenDatabaseGiven(t *testing.T) {
	dir := inEmptyDir(t)
	srv := scanSite(t)
	dbPath := filepath.Join(dir, "audit.db")
	if code, _, errs := scanTally(srv.URL+"/", "--db", dbPath, "--now", "2026-06-01T03:00:00Z"); code != 1 {
		t.Fatalf("exit %d (%s), want 1", code, errs)
	}
	// A clean scan is recorded too: evidence the check ran.
	if code, _, errs := scanTally(srv.URL+"/clean", "--db", dbPath, "--depth", "0", "--now", "2026-06-02T03:00:00Z"); code != 0 {
		t.Fatalf("clean: exit %d (%s)", code, errs)
	}
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := sqlfile.Open(t, db.Path).QueryRow("SELECT count(*) FROM scans").Scan(&n); err != nil || n != 2 {
		t.Errorf("scans = %d (%v), want 2", n, err)
	}
	var tracker, at string
	if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT f.tracker, s.scanned_at FROM scan_findings f JOIN scans s ON s.id = f.scan_id`).Scan(&tracker, &at); err != nil ||
		tracker != "meta_pixel" || at != "2026-06-01T03:00:00.000Z" {
		t.Errorf("finding = %q at %q (%v)", tracker, at, err)
	}
	latest, ok, err := db.LatestScan(context.Background())
	if err != nil || !ok || len(latest.Findings) != 0 || latest.Pages != 1 {
		t.Errorf("latest = %+v, %v, %v; want the clean scan", latest, ok, err)
	}
}

func TestScanLocalFolder(t *testing.T) {
	dir := inEmptyDir(t)
	site := filepath.Join(dir, "export")
	os.MkdirAll(filepath.Join(site, "js"), 0o755)
	os.WriteFile(filepath.Join(site, "index.html"), []byte(`<script src="js/app.js"></script>`), 0o644)
	os.WriteFile(filepath.Join(site, "js", "app.js"), []byte(`!function(){ttq.load('CABCDEFGHIJ1234567');ttq.page()}();`), 0o644)
	code, out, errs := scanTally("export", "--format", "json")
	if code != 1 || !strings.Contains(out, `"tracker": "tiktok_pixel"`) || !strings.Contains(out, filepath.Join("export", "js", "app.js")) {
		t.Errorf("exit %d (%s)\n%s", code, errs, out)
	}
}

func TestScanCannotScan(t *testing.T) {
	inEmptyDir(t)
	srv := scanSite(t)
	url := srv.URL
	srv.Close()
	code, out, errs := scanTally(url+"/", "--fail-on", "none")
	if code != 1 || !strings.Contains(errs, "could not scan "+url) || !strings.Contains(out, "no trackers found on 0 pages") {
		t.Errorf("unreachable site: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}

func TestScanUsage(t *testing.T) {
	inEmptyDir(t)
	for _, args := range [][]string{
		{},
		{"https://example.org/", "--format", "xml"},
		{"https://example.org/", "--fail-on", "some"},
		{"https://example.org/", "--max-pages", "0"},
		{"https://example.org/", "--depth", "-1"},
		{"https://example.org/", "--depth", "two"},
		{"no-such-folder"},
		{"ftp://example.org/"},
		{"https://"},
	} {
		if code, _, errs := scanTally(args...); code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("scan %v: exit %d, stderr %q; want 2 and one line", args, code, errs)
		}
	}
}

// A page cut at the 2 MiB cap may hide a tracker past the cut: the scan
// says which pages were truncated, in text and JSON, and exits 3
// ("incomplete") unless a tracker was found; exit 1 still wins.
func TestScanTruncatedPageIsIncomplete(t *testing.T) {
	inEmptyDir(t)
	pad := strings.Repeat("<p>About our clinics.</p>\n", (2<<20)/26+1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/long":
			w.Write([]byte("<html><body>" + pad + "<script>fbq('init','111111111111111')</script></body></html>"))
		case "/early":
			w.Write([]byte("<html><body><script>fbq('init','222222222222222')</script>" + pad + "</body></html>"))
		case "/clean":
			w.Write([]byte(`<html><body><p>No pixels here.</p></body></html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	long := srv.URL + "/long"

	code, out, errs := scanTally(long, "--depth", "0")
	if code != 3 || !strings.Contains(out, "truncated") || !strings.Contains(out, long) || !strings.Contains(errs, "incomplete") {
		t.Errorf("text: exit %d, want 3\nstdout %s\nstderr %s", code, out, errs)
	}
	code, out, errs = scanTally(long, "--depth", "0", "--format", "json")
	var got struct {
		Findings  []map[string]string `json:"findings"`
		Truncated []string            `json:"truncated"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if code != 3 || len(got.Findings) != 0 || !slices.Equal(got.Truncated, []string{long}) {
		t.Errorf("json: exit %d, %+v; want 3 and the page truncated (%s)", code, got, errs)
	}

	// A tracker found, or a target that could not be scanned: exit 1 wins.
	if code, _, errs := scanTally(srv.URL+"/early", "--depth", "0"); code != 1 {
		t.Errorf("tracker before the cut: exit %d (%s), want 1", code, errs)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if code, _, errs := scanTally(long, dead.URL+"/", "--depth", "0"); code != 1 {
		t.Errorf("unscannable target: exit %d (%s), want 1", code, errs)
	}
	// A tracker found settles the question: --fail-on none exits 0.
	if code, _, errs := scanTally(srv.URL+"/early", "--depth", "0", "--fail-on", "none"); code != 0 {
		t.Errorf("tracker before the cut, --fail-on none: exit %d (%s), want 0", code, errs)
	}
	// A complete scan is not incomplete.
	if code, _, errs := scanTally(srv.URL+"/clean", "--depth", "0"); code != 0 {
		t.Errorf("clean page: exit %d (%s), want 0", code, errs)
	}
}
