package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// intakeDir writes a config and returns (dir, config path) for ingest tests.
func intakeDir(t *testing.T) (string, string) {
	t.Helper()
	t.Setenv("TALLY_SECRET", "ingest-test-secret-0123456789")
	t.Setenv("TALLY_CONFIG", "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tally.toml")
	// The fixtures' visitor v1 converts in several cells a day.
	body := "[store]\npath = " + `"` + filepath.Join(dir, "tally.db") + `"` + "\n[privacy]\nmax_cells_per_visitor_day = 10\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

func TestIngestFilesThroughThePipeline(t *testing.T) {
	dir, cfg := intakeDir(t)
	now := "2026-11-20T12:00:00Z"
	consents := write(t, filepath.Join(dir, "consent.ndjson"),
		`{"visitor_id":"v1","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z","source":"cmp","version":"v3"}`+"\n"+
			`{"visitor_id":"v2","purposes":{"advertising":false},"time":"2026-11-19T00:00:00Z"}`+"\n"+
			`{"visitor_id":"v3","purposes":{"analytics":true}}`+"\n"+
			"not json\n"+
			`{"purposes":{"advertising":true}}`+"\n")
	code, out, errOut := runTally(t, "--config", cfg, "--now", now, "consent", "import", consents)
	if code != 0 || !strings.Contains(out, "recorded 2, skipped 1") || !strings.Contains(out, "invalid 2") {
		t.Fatalf("consent import: %d %q %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "line 4: malformed JSON") || !strings.Contains(errOut, "line 5: visitor_id: required") {
		t.Errorf("consent import errors lack line numbers: %q", errOut)
	}

	ndjson := write(t, filepath.Join(dir, "events.ndjson"), strings.Join([]string{
		`{"event_id":"e1","event":"appointment_booked","visitor_id":"v1","source":"facebook","campaign":"c1"}`,
		`{"event_id":"e1","event":"appointment_booked","visitor_id":"v1","source":"facebook","campaign":"c1"}`,
		``,
		`{"event_id":"e2","event":"appointment_booked","visitor_id":"v2"}`,
		`{"event_id":"e3","event":"appointment_booked"`,
		`{"event_id":"e4","event":"lab_result","visitor_id":"v1"}`,
	}, "\n"))
	csv := write(t, filepath.Join(dir, "events.csv"), "event_id,event,visitor_id,source,campaign,email\n"+
		"e5,contact_form_submitted,v1,google,c2,jane@example.org\n"+
		"e6,contact_form_submitted,v1,google,\"bad\"quote,x\n"+
		"e7,appointment_booked,v1,tiktok,,\n")
	code, out, errOut = runTally(t, "--config", cfg, "--now", now, "ingest", ndjson, csv)
	want := "accepted 3, duplicate 1, invalid 2, dropped 2 no_consent=1 unmapped_event=1"
	if code != 0 || strings.TrimSpace(out) != want {
		t.Fatalf("ingest: %d\n got %q\nwant %q\n%s", code, out, want, errOut)
	}
	if !strings.Contains(errOut, "events.ndjson: line 5:") || !strings.Contains(errOut, "events.csv: line 3:") {
		t.Errorf("ingest errors lack file and line: %q", errOut)
	}

	// stdin, and a missing file is a one-line runtime error.
	code, out, _ = runTallyStdin(t, `{"event_id":"e9","event":"appointment_booked","visitor_id":"v1"}`+"\n", "--config", cfg, "--now", now, "ingest", "-")
	if code != 0 || !strings.HasPrefix(out, "accepted 1") {
		t.Errorf("ingest -: %d %q", code, out)
	}
	if code, _, errOut := runTally(t, "--config", cfg, "ingest", filepath.Join(dir, "missing.ndjson")); code != 1 || strings.Count(errOut, "\n") != 1 {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}

func TestExitCodes(t *testing.T) {
	_, cfg := intakeDir(t)
	bad := write(t, filepath.Join(t.TempDir(), "bad.toml"), "[privacy]\nmin_count = -3\n")
	unknown := write(t, filepath.Join(t.TempDir(), "unknown.toml"), "[intake]\nlisten_addr = \"x\"\n")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"--bogus", "version"}, 2, "unknown flag"},
		{[]string{"ingest"}, 2, "requires at least 1 arg"},
		{[]string{"--config", bad, "ingest", "x"}, 2, "config: privacy.min_count: must be >= 0, got -3"},
		{[]string{"--config", unknown, "ingest", "x"}, 2, `unknown key "intake.listen_addr"`},
		{[]string{"--config", cfg, "--now", "tuesday", "ingest", "x"}, 2, "--now"},
		{[]string{"--config", cfg, "ingest", "--format", "xml", "x"}, 2, "--format"},
		{[]string{"--config", filepath.Join(t.TempDir(), "absent.toml"), "ingest", "x"}, 2, "config: open"},
	}
	for _, tt := range tests {
		code, _, errOut := runTally(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.msg) {
			t.Errorf("tally %v: exit %d %q, want %d with %q", tt.args, code, errOut, tt.code, tt.msg)
		}
	}
}

// A line over the reader's limit in a real import file is one invalid line
// with its number; the rest of the file is read and the summary printed.
func TestIngestGoesOnPastAnOverlongLine(t *testing.T) {
	dir, cfg := intakeDir(t)
	now := "2026-11-20T12:00:00Z"
	huge := `{"visitor_id":"v9","purposes":{"advertising":true},"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	consents := write(t, filepath.Join(dir, "consent.ndjson"), strings.Join([]string{
		`{"visitor_id":"v1","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z"}`,
		huge,
		`{"visitor_id":"v2","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z"}`,
	}, "\n")+"\n")
	code, out, errOut := runTally(t, "--config", cfg, "--now", now, "consent", "import", consents)
	if code != 0 || !strings.Contains(out, "recorded 2, skipped 0") || !strings.Contains(out, "invalid 1") {
		t.Fatalf("consent import: exit %d %q %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "consent.ndjson: line 2: line longer than") {
		t.Errorf("consent import stderr %q", errOut)
	}

	hugeEvent := `{"event_id":"e2","event":"appointment_booked","visitor_id":"v1","pad":"` + strings.Repeat("x", 2<<20) + `"}`
	events := write(t, filepath.Join(dir, "events.ndjson"), strings.Join([]string{
		`{"event_id":"e1","event":"appointment_booked","visitor_id":"v1","source":"facebook","campaign":"c1"}`,
		hugeEvent,
		`{"event_id":"e3","event":"appointment_booked","visitor_id":"v2","source":"facebook","campaign":"c1"}`,
		`{"event_id":"e4","event":"appointment_booked","visitor_id":"v1"}`,
	}, "\n"))
	code, out, errOut = runTally(t, "--config", cfg, "--now", now, "ingest", events)
	if want := "accepted 3, duplicate 0, invalid 1, dropped 0"; code != 0 || strings.TrimSpace(out) != want {
		t.Fatalf("ingest: exit %d\n got %q\nwant %q\n%s", code, out, want, errOut)
	}
	if !strings.Contains(errOut, "events.ndjson: line 2: line longer than 1048576 bytes") || strings.Contains(errOut, "xxxx") {
		t.Errorf("ingest stderr %q", errOut)
	}
}
