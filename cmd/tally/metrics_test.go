package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestRunWritesTheMetricsFile: `tally run --metrics-file` writes the batch
// job's metrics once the run ends; a file in a folder that does not exist
// is a usage error found before the run does anything.
func TestRunWritesTheMetricsFile(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, _ := pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-16", "2026-11-17", "2026-11-18")
	dir := t.TempDir()
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T13:00:00Z", "run", "--metrics-file", filepath.Join(dir, "no", "tally.prom"))
	if code != exitUsage || !strings.Contains(errOut, "--metrics-file: "+filepath.Join(dir, "no")+": no such directory") {
		t.Fatalf("metrics file in a missing folder: exit %d, want 2\n%s%s", code, out, errOut)
	}
	if _, logged, _ := runTally(t, "--config", cfg, "audit", "log"); strings.Contains(logged, "run_config") {
		t.Fatalf("the refused run did something:\n%s", logged)
	}
	path := filepath.Join(dir, "tally.prom")
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T13:00:00Z", "run", "--metrics-file", path); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`tally_run_last_outcome{outcome="ok"} 1`,
		`tally_cells{status="released"} 3`,
		`tally_conversions{platform="meta",state="sent"} 36`,
		`tally_conversions{platform="meta",state="pending"} 0`,
		`tally_upload_oldest_pending_age_seconds{platform="meta"} 0`,
	} {
		if !bytes.Contains(raw, []byte(want+"\n")) {
			t.Errorf("metrics file lacks %q:\n%s", want, raw)
		}
	}
	if !bytes.Contains(raw, []byte("\ntally_run_last_success_timestamp_seconds ")) {
		t.Errorf("metrics file has no last success:\n%s", raw)
	}
}

// alertRules is deploy/prometheus/alerts.yml, decoded strictly: a key
// Prometheus would not know (a misspelt "annotations") fails the decode.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var (
	// selectorRE finds tally series in an expression, with their label
	// matchers when given.
	selectorRE = regexp.MustCompile(`\b(tally_[a-z_]+)(\{[^}]*\})?`)
	// exactMatcherRE is one label="value" matcher (=~ and != are skipped).
	exactMatcherRE = regexp.MustCompile(`([a-z_]+)="([^"]*)"`)
)

// TestScheduleServesJobMetricsAndAlertsNameThem: `tally schedule` serves
// the batch job's series on /metrics beside the intake's, read from the
// database (a run made by another process is reported). Every rule in
// deploy/prometheus/alerts.yml parses, and names only series /metrics
// serves, with label values it serves.
func TestScheduleServesJobMetricsAndAlertsNameThem(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, dbPath := pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-16", "2026-11-17", "2026-11-18")
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T13:00:00Z", "run"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	srv := startListening(t, filepath.Dir(dbPath), []string{"TALLY_SECRET=run-test-secret-0123456789"},
		"--config", cfg, "schedule", "--listen", "127.0.0.1:0")
	if code, _ := srv.call(t, http.MethodGet, "/healthz", "", nil); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	resp, err := http.Get("http://" + srv.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v\n%s", resp.StatusCode, err, body)
	}
	metrics := string(body)
	for _, want := range []string{`tally_conversions{platform="meta",state="sent"} 36`, `tally_run_last_outcome{outcome="ok"} 1`,
		`tally_http_requests_total{code="200",route="healthz"} 1`} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("schedule exit after SIGTERM: %v", err)
	}

	raw, err := os.ReadFile(filepath.Join(deployDir, "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	var n int
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %q: want alert, expr, a severity label and a summary", r.Alert)
			}
			if _, err := time.ParseDuration(r.For); r.For != "" && err != nil {
				t.Errorf("rule %s: for %q: %v", r.Alert, r.For, err)
			}
			sels := selectorRE.FindAllStringSubmatch(r.Expr, -1)
			if len(sels) == 0 {
				t.Errorf("rule %s names no tally series: %s", r.Alert, r.Expr)
			}
			for _, sel := range sels {
				if !strings.Contains(metrics, "\n# TYPE "+sel[1]+" ") {
					t.Errorf("rule %s names %s, which /metrics does not serve", r.Alert, sel[1])
					continue
				}
				for _, m := range exactMatcherRE.FindAllStringSubmatch(sel[2], -1) {
					if !regexp.MustCompile(`\n` + sel[1] + `\{[^}]*\b` + m[1] + `="` + regexp.QuoteMeta(m[2]) + `"`).MatchString(metrics) {
						t.Errorf("rule %s selects %s{%s=%q}, which /metrics does not serve", r.Alert, sel[1], m[1], m[2])
					}
				}
			}
		}
	}
	if n < 5 {
		t.Errorf("alerts.yml holds %d rules, want at least the five of docs/OPERATIONS.md", n)
	}
}
