package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/storetest"
)

// TestReportCommand writes the page from rollupFixture's database before
// and after its days are sealed, and refuses bad flags with exit 2
// without writing anything.
func TestReportCommand(t *testing.T) {
	cfg, dbPath := rollupFixture(t)
	out := t.TempDir()
	page := filepath.Join(out, "r.html")
	code, stdout, errs := runTally(t, "report", "--config", cfg, "-o", page)
	if code != 0 || stdout != "wrote "+page+": no day is sealed yet\n" {
		t.Fatalf("before any seal: exit %d, %q %s", code, stdout, errs)
	}
	if b, _ := os.ReadFile(page); !strings.Contains(string(b), `id="empty"`) {
		t.Errorf("before any seal the page does not say it is empty:\n%s", b)
	}
	if code, _, errs := runTally(t, "rollup", "--config", cfg, "--now", "2026-11-03T03:00:00Z"); code != 0 {
		t.Fatalf("rollup: %s", errs)
	}
	before := storetest.DirState(t, filepath.Dir(dbPath))
	code, stdout, errs = runTally(t, "report", "--config", cfg, "-o", page)
	if code != 0 || stdout != "wrote "+page+": 2026-11-01 to 2026-11-02 by day, 2 sealed days\n" {
		t.Fatalf("report: exit %d, %q %s", code, stdout, errs)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	// meta: a 12 on 11-01, b 3 held then 9 + 3 released on 11-02; none: 2
	// held then suppressed.
	for _, want := range []string{`data-total="24"`, "12 + &lt; 11", "carried from 2026-11-01", "2 × &lt; 11", "none (no ad platform)"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if after := storetest.DirState(t, filepath.Dir(dbPath)); after != before {
		t.Errorf("report changed the database's folder:\n%s\nthen\n%s", before, after)
	}
	code, stdout, _ = runTally(t, "report", "--config", cfg, "-o", page, "--from", "2026-11", "--to", "2026-11", "--group", "week")
	if code != 0 || !strings.Contains(stdout, "2026-11-01 to 2026-11-30 by week, 2 sealed days") {
		t.Errorf("report of a month by week: exit %d, %q", code, stdout)
	}
	written, _ := os.ReadFile(page)
	for _, bad := range [][]string{{"--group", "fortnight"}, {"--from", "2026-11-03", "--to", "2026-11-01"}, {"--from", "2026-13"},
		{"--to", "11/02/2026"}, {"-o", ""}, {"--from", "2000-01", "--to", "2026-11"}} {
		code, _, errs := runTally(t, append([]string{"report", "--config", cfg, "-o", page}, bad...)...)
		if code != 2 {
			t.Errorf("report %v: exit %d (%s), want 2", bad, code, errs)
		}
	}
	if code, _, errs := runTally(t, "report", "--config", cfg, "-o", filepath.Join(out, "missing", "r.html")); code != 1 || !strings.Contains(errs, "missing") {
		t.Errorf("report into a missing folder: exit %d, %s", code, errs)
	}
	if again, _ := os.ReadFile(page); string(again) != string(written) {
		t.Error("a refused report changed the page written before")
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("the output folder holds %d entries, want the page alone (no temporary file left)", len(entries))
	}
}

// reportCells are the sealed cells reportFixture makes, as (day, source,
// campaign, event, events): meta's spring_24 releases 14 on 11-17, holds
// 4 on 11-18 and releases 9 + 4 on 11-19; google's flu_shots releases 12
// leads on 11-17 and holds 3 on 11-19; an event without source counts
// for platform none.
var reportCells = []struct {
	day, source, campaign, event string
	n                            int
}{
	{"2026-11-17", "facebook", "spring_24", "appointment_booked", 14},
	{"2026-11-18", "facebook", "spring_24", "appointment_booked", 4},
	{"2026-11-19", "facebook", "spring_24", "appointment_booked", 9},
	{"2026-11-17", "google", "flu_shots", "contact_form_submitted", 12},
	{"2026-11-19", "google", "flu_shots", "contact_form_submitted", 3},
	{"2026-11-18", "", "", "appointment_booked", 11},
}

// reportTotals are the released totals of reportCells per platform and
// campaign, as the page's data-total attributes hold them.
var reportTotals = map[string]int{"meta": 27, "meta/spring_24": 27, "google": 12, "google/flu_shots": 12, "none": 11, "none/": 11}

// reportFixture imports consents and reportCells' events through the
// real intake (tally consent import, tally ingest) and seals their days;
// it returns the folder, the config file and the environment serve needs.
func reportFixture(t *testing.T) (dir, cfg string, env []string) {
	t.Helper()
	dir, cfg = intakeDir(t)
	var consents, events strings.Builder
	v := 0
	for _, c := range reportCells {
		for range c.n {
			v++
			fmt.Fprintf(&consents, `{"visitor_id":"v%d","purposes":{"advertising":true},"time":"2026-11-16T00:00:00Z"}`+"\n", v)
			fmt.Fprintf(&events, `{"event_id":"e%d","event":%q,"visitor_id":"v%d","time":"%sT10:00:00Z","source":%q,"campaign":%q}`+"\n",
				v, c.event, v, c.day, c.source, c.campaign)
		}
	}
	now := "2026-11-20T12:00:00Z"
	for _, args := range [][]string{
		{"consent", "import", write(t, filepath.Join(dir, "consents.ndjson"), consents.String())},
		{"ingest", write(t, filepath.Join(dir, "events.ndjson"), events.String())},
		{"rollup"},
	} {
		if code, out, errs := runTally(t, append([]string{"--config", cfg, "--now", now}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	return dir, cfg, []string{"TALLY_SECRET=" + os.Getenv("TALLY_SECRET")}
}

// reportToken is the token of the served report in the tests.
const reportToken = "report-token-0123456789"

// TestReportServed: GET /report on tally serve answers 401 without the
// token and reveals nothing, the page with it (bearer or basic auth), 400
// for a bad query; it is off by default, and serve refuses to start with
// the report enabled but no token or a short one.
func TestReportServed(t *testing.T) {
	dir, cfg, env := reportFixture(t)
	off := startServe(t, dir, env, "--config", cfg)
	if code, _ := off.call(t, http.MethodGet, "/report", "", map[string]string{"Authorization": "Bearer " + reportToken}); code != http.StatusNotFound {
		t.Errorf("report off by default: GET /report answered %d, want 404", code)
	}
	if err := off.stop(t, os.Interrupt); err != nil {
		t.Fatal(err)
	}

	enabled := filepath.Join(dir, "report.toml")
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	write(t, enabled, string(base)+"[report]\nenabled = true\n")
	t.Setenv("TALLY_REPORT_TOKEN", "")
	for _, tc := range []struct{ token, want string }{
		{"", "report.token_env: environment variable TALLY_REPORT_TOKEN is not set"},
		{"short", "has 5 characters, want at least 16"},
	} {
		t.Setenv("TALLY_REPORT_TOKEN", tc.token)
		code, _, errs := runTally(t, "serve", "--config", enabled, "--listen", "127.0.0.1:0")
		if code != 2 || !strings.Contains(errs, tc.want) || (tc.token != "" && strings.Contains(errs, tc.token)) {
			t.Errorf("serve with token %q: exit %d, %s; want 2 and %q, never the token", tc.token, code, errs, tc.want)
		}
	}

	srv := startServe(t, dir, append(env, "TALLY_REPORT_TOKEN="+reportToken), "--config", enabled)
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": "Bearer "},
		{"Authorization": "Basic " + basic("x", "wrong")}, {"Authorization": reportToken}} {
		code, body := srv.call(t, http.MethodGet, "/report?from=2026-11-01", "", hdr)
		if code != http.StatusUnauthorized || strings.Contains(string(body), "meta") || strings.Contains(string(body), "2026") {
			t.Errorf("GET /report with %v: %d %q, want 401 saying nothing", hdr, code, body)
		}
	}
	for _, hdr := range []map[string]string{{"Authorization": "Bearer " + reportToken}, {"Authorization": "Basic " + basic("marketing", reportToken)}} {
		code, body := srv.call(t, http.MethodGet, "/report?from=2026-11&group=week", "", hdr)
		if code != http.StatusOK || !strings.Contains(string(body), `data-total="27"`) || !strings.Contains(string(body), "2026-11-01 to 2026-11-19, by week") {
			t.Errorf("GET /report with the token: %d\n%s", code, body)
		}
	}
	auth := map[string]string{"Authorization": "Bearer " + reportToken}
	for _, q := range []string{"group=fortnight", "from=2026-11-03&to=2026-11-01", "from=yesterday"} {
		if code, body := srv.call(t, http.MethodGet, "/report?"+q, "", auth); code != http.StatusBadRequest {
			t.Errorf("GET /report?%s: %d %s, want 400", q, code, body)
		}
	}
	if code, _ := srv.call(t, http.MethodPost, "/report", "", auth); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /report: %d, want 405", code)
	}
	if strings.Contains(string(srv.logs.Bytes()), reportToken) {
		t.Error("SECRET LEAK: the report token is in serve's log")
	}
}

// basic is the value of a basic-auth header for user and password.
func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
