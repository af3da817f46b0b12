package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
)

// TestPrivacyStatementOnTheDemo: `tally privacy` on the demo database
// prints, for every sealed day, what daily_counts and the configuration
// say (k and noise from the gate_* columns, L = 1 by default on a day with
// events), and the period's sum: without noise, no ε.
func TestPrivacyStatementOnTheDemo(t *testing.T) {
	t.Setenv("TALLY_SECRET", "")
	t.Setenv("TALLY_CONFIG", "")
	db := filepath.Join(t.TempDir(), "tally.db")
	if code, out, errOut := runTally(t, "--db", db, "demo"); code != 0 {
		t.Fatalf("demo: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runTally(t, "--db", db, "privacy")
	if code != 0 {
		t.Fatalf("privacy: exit %d\n%s%s", code, out, errOut)
	}
	// What an auditor reads by hand: each sealed day's gate from its rows,
	// and whether it held events.
	rows, err := sqlfile.Open(t, db).Query(`SELECT d.day,
		coalesce((SELECT max(gate_min_count) || ' ' || max(gate_noise) FROM daily_counts c WHERE c.day = d.day), ''),
		(SELECT coalesce(sum(raw_count), 0) FROM daily_counts c WHERE c.day = d.day)
		FROM days d WHERE sealed_at IS NOT NULL ORDER BY d.day`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	days := 0
	for rows.Next() {
		var day, gate string
		var events int
		if err := rows.Scan(&day, &gate, &events); err != nil {
			t.Fatal(err)
		}
		days++
		k, noise, l := "11", "none", "0" // the defaults: a day without rows was sealed under them
		if gate != "" {
			k, noise, _ = strings.Cut(gate, " ")
		}
		if events > 0 {
			l = "1" // privacy.max_cells_per_visitor_day's default
		}
		line := regexp.MustCompile(fmt.Sprintf(`(?m)^%s +%s +%s +- +%s +- +-$`, day, k, noise, l))
		if !line.MatchString(out) {
			t.Errorf("no line %q for %s in\n%s", line, day, out)
		}
		if events > 0 && !strings.Contains(out, day+": threshold only, no ε: cells below k = 11 are held or suppressed; at most L = 1 cell(s) per visitor per day") {
			t.Errorf("%s: statement missing in\n%s", day, out)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if days == 0 || !strings.Contains(out, fmt.Sprintf(": %d sealed day(s) with a receipt", days)) ||
		!strings.Contains(out, fmt.Sprintf("no per-visitor ε (%d day(s) threshold only, 0 without a per-visitor ε)", days)) {
		t.Errorf("%d sealed days; statement:\n%s", days, out)
	}
	// The demo's report (the same default period: the last sealed days)
	// carries the same statement in its footer.
	page, err := os.ReadFile(filepath.Join(filepath.Dir(db), "tally-report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("no per-visitor ε (%d day(s) threshold only, 0 without a per-visitor ε)", days); !strings.Contains(string(page), want) {
		t.Errorf("the demo's report does not state %q", want)
	}
	if code, _, errOut := runTally(t, "--db", db, "privacy", "--from", "2026-13-01"); code != 2 || !strings.Contains(errOut, "--from") {
		t.Errorf("bad --from: exit %d %q", code, errOut)
	}
}

// TestPrivacyStatementUnderNoise: with noise at ε = 0.5 and a bound of 2
// cells per visitor a day, each day with events states a per-visitor ε of
// 1 and the period their sum; the seal's audit entry carries the receipt.
func TestPrivacyStatementUnderNoise(t *testing.T) {
	dir, cfg := intakeDir(t)
	write(t, cfg, string(mustRead(t, cfg))+`noise = "geometric"
epsilon = 0.5
`)
	cfgBody := strings.Replace(string(mustRead(t, cfg)), "max_cells_per_visitor_day = 10", "max_cells_per_visitor_day = 2", 1)
	write(t, cfg, cfgBody)
	consents := write(t, filepath.Join(dir, "consent.ndjson"),
		`{"visitor_id":"v1","purposes":{"advertising":true},"time":"2026-11-01T00:00:00Z"}`+"\n")
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-20T12:00:00Z", "consent", "import", consents); code != 0 {
		t.Fatalf("consent import: %d %s %s", code, out, errOut)
	}
	events := write(t, filepath.Join(dir, "events.ndjson"), strings.Join([]string{
		`{"event_id":"e1","event":"appointment_booked","visitor_id":"v1","source":"facebook","campaign":"c1","time":"2026-11-18T10:00:00Z"}`,
		`{"event_id":"e2","event":"appointment_booked","visitor_id":"v1","source":"facebook","campaign":"c2","time":"2026-11-18T10:00:00Z"}`,
		`{"event_id":"e3","event":"appointment_booked","visitor_id":"v1","source":"facebook","campaign":"c3","time":"2026-11-18T10:00:00Z"}`,
		`{"event_id":"e4","event":"appointment_booked","visitor_id":"v1","source":"facebook","campaign":"c1","time":"2026-11-19T10:00:00Z"}`,
	}, "\n"))
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-20T12:00:00Z", "ingest", events)
	if code != 0 || !strings.HasPrefix(out, "accepted 3, duplicate 0, invalid 0, dropped 1 over_bound=1") {
		t.Fatalf("ingest: %d %q %s", code, out, errOut)
	}
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-20T12:00:00Z", "rollup"); code != 0 {
		t.Fatalf("rollup: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runTally(t, "--config", cfg, "privacy", "--from", "2026-11-18", "--to", "2026-11-19")
	if code != 0 {
		t.Fatalf("privacy: %d %s", code, errOut)
	}
	for _, want := range []*regexp.Regexp{
		// δ = L·α^(k-1)/(1+α), α = e^-0.5: docs/PRIVACY.md's example.
		regexp.MustCompile(`(?m)^2026-11-18 +11 +geometric +0\.5 +2 +1 +≈0\.0084$`),
		regexp.MustCompile(`(?m)^2026-11-19 +11 +geometric +0\.5 +2 +1 +≈0\.0084$`),
		regexp.MustCompile(`per-visitor ε = 2, δ ≈0\.017 over 2 day\(s\)`),
	} {
		if !want.MatchString(out) {
			t.Errorf("statement lacks %q:\n%s", want, out)
		}
	}
	var detail string
	if err := sqlfile.Open(t, filepath.Join(dir, "tally.db")).QueryRow(`SELECT detail FROM audit_log
		WHERE kind = 'rollup' AND detail LIKE '%"day":"2026-11-18"%'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, `"privacy":{"min_count":11,"noise":"geometric","epsilon":"0.5","visitor_bound":2,"visitor_epsilon":"1"`) {
		t.Errorf("the seal's audit entry lacks the receipt: %s", detail)
	}
}

// TestSimulateCommand: `tally privacy simulate` runs the configured gate
// (here the defaults) and no gate; the same seed prints the same tables,
// and the default gate's full-disclosure column is 0 at every level.
func TestSimulateCommand(t *testing.T) {
	t.Setenv("TALLY_CONFIG", "")
	code, out, errOut := runTally(t, "privacy", "simulate", "--days", "200", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, again, _ := runTally(t, "privacy", "simulate", "--days", "200", "--seed", "3"); again != out {
		t.Errorf("the same seed printed two tables:\n%s\n%s", out, again)
	}
	configured, _, ok := strings.Cut(out, "no gate")
	if !ok || !strings.HasPrefix(configured, "configured gate: min_count 11, small_counts carry, carry_days 7, noise none") {
		t.Fatalf("output:\n%s", out)
	}
	rows := regexp.MustCompile(`(?m)^ +\d+ +\d+% .* (\S+)%$`).FindAllStringSubmatch(configured, -1)
	if len(rows) != 8 {
		t.Fatalf("%d level rows in\n%s", len(rows), configured)
	}
	for _, r := range rows {
		if r[1] != "0.0" {
			t.Errorf("default gate discloses: %s", r[0])
		}
	}
	if code, _, _ := runTally(t, "privacy", "simulate", "--days", "-1"); code != 2 {
		t.Errorf("--days -1: exit %d, want 2", code)
	}
}
