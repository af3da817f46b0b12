package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// uncertainRun builds a file through the real commands: one sealed day
// (google/spring/booking released 12) whose GA4 request was answered 500,
// so its 12 conversions are uncertain. It returns the config, the database
// path and the GA4 endpoint.
func uncertainRun(t *testing.T) (cfg, dbPath string, g *ga4Only) {
	t.Helper()
	g = newGA4Only(t, 1)
	setSecrets(t)
	t.Setenv("TALLY_SECRET", "uncertain-test-secret-0123456789")
	t.Setenv("TALLY_CONFIG", "")
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "tally.db")
	cfg = write(t, filepath.Join(dir, "tally.toml"), fmt.Sprintf("[store]\npath = %q\n", dbPath)+ga4Uploader(g.URL))
	var consents, events strings.Builder
	for v := 0; v < 12; v++ {
		fmt.Fprintf(&consents, `{"visitor_id":"v%d","purposes":{"advertising":true},"time":"2026-11-01T00:00:00Z"}`+"\n", v)
		fmt.Fprintf(&events, `{"event_id":"e%d","event":"appointment_booked","visitor_id":"v%d","time":"2026-11-18T10:00:00Z","source":"google","campaign":"spring"}`+"\n", v, v)
	}
	now := "2026-11-19T12:00:00Z"
	for _, args := range [][]string{
		{"consent", "import", write(t, filepath.Join(dir, "c.ndjson"), consents.String())},
		{"ingest", write(t, filepath.Join(dir, "e.ndjson"), events.String())},
	} {
		if code, out, errOut := runTally(t, append([]string{"--config", cfg, "--now", now}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d %s %s", args, code, out, errOut)
		}
	}
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T13:00:00Z", "run")
	if code != exitFailure || !strings.Contains(out+errOut, "12 uncertain") || len(g.received()) != 1 {
		t.Fatalf("run: exit %d (want 1: uncertain), %d requests\n%s%s", code, len(g.received()), out, errOut)
	}
	return cfg, dbPath, g
}

// TestAuditVerifyChecksUncertain: a file with uncertain conversions, and
// the same after --resend-uncertain settled them, verify; edits that hide,
// invent or move an unknown outcome fail with exit 1 naming the row.
func TestAuditVerifyChecksUncertain(t *testing.T) {
	cfg, dbPath, g := uncertainRun(t)
	if code, out, errOut := runTally(t, "--config", cfg, "audit", "verify"); code != 0 {
		t.Fatalf("verify with uncertain conversions: exit %d\n%s%s", code, out, errOut)
	}
	key := "uploads 2026-11-18/google/spring/booking: "
	verifyCatches(t, cfg, dbPath, []tamper{
		{"uncertain passed off as acknowledged", []string{`UPDATE uploads SET uncertain = 0, acked = 12, state = 'sent'`},
			key + "uncertain 0, but its open upload_uncertain rows hold 12"},
		{"uncertain rows deleted", []string{`DELETE FROM upload_uncertain`}, key + "uncertain 12, but its open upload_uncertain rows hold 0"},
		{"uncertain row closed", []string{`UPDATE upload_uncertain SET resent_by = 1`}, "upload_uncertain id 1: resent_by 1"},
		{"request answered 204", []string{`UPDATE upload_requests SET status = 204`}, "upload_requests id 1: status 204 differs"},
	})
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T14:00:00Z", "upload", "--resend-uncertain"); code != 0 || len(g.received()) != 2 {
		t.Fatalf("resend: exit %d, %d requests\n%s%s", code, len(g.received()), out, errOut)
	}
	if code, out, errOut := runTally(t, "--config", cfg, "audit", "verify"); code != 0 {
		t.Fatalf("verify after the resend: exit %d\n%s%s", code, out, errOut)
	}
	cp := tamperedCopy(t, dbPath, `INSERT INTO upload_uncertain (request_id, day, platform, campaign, conversion, first_index, n)
		VALUES (2, '2026-11-18', 'google', 'spring', 'booking', 0, 12)`, `UPDATE uploads SET uncertain = 12, acked = 0, state = 'uncertain'`)
	if code, out, errOut := runTally(t, "--config", cfg, "--db", cp, "audit", "verify"); code != exitFailure ||
		!strings.Contains(out, "upload_uncertain id 2: request 2 was answered 204") {
		t.Errorf("an acknowledged request made uncertain: exit %d\n%s%s", code, out, errOut)
	}
}
