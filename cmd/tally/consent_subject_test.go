package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
)

// TestConsentLookupAndForget runs a subject request end to end with the
// real binary: consents imported from a booking system's CSV export, the
// visitor's history printed by `consent lookup`, deleted by `consent
// forget` through the recorded purge (one audit entry with the count,
// other visitors untouched, an ordinary DELETE still refused), after which
// the visitor's events are no_consent.
func TestConsentLookupAndForget(t *testing.T) {
	dir, cfg := intakeDir(t)
	now := "2026-11-20T12:00:00Z"
	// Before any database exists: an error, and no file (nor key) made.
	if code, out, errOut := runTally(t, "--config", cfg, "consent", "lookup", "v1"); code != 1 || !strings.Contains(errOut, "no database at") {
		t.Errorf("lookup without a database: %d %q %q, want exit 1", code, out, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("lookup without a database left files: %v", entries)
	}
	csv := write(t, filepath.Join(dir, "bookings.csv"), "visitor_id,advertising,time,source,version,patient_name\n"+
		"v1,true,2026-11-18T09:00:00Z,import,,Jane Doe\n"+
		"v1,false,2026-11-19T09:00:00Z,cmp,,Jane Doe\n"+
		"v1,yes,2026-11-19T10:00:00Z,cmp,,Jane Doe\n"+
		"v2,1,2026-11-19T10:00:00Z,,,John Roe\n"+
		"v3,maybe,2026-11-19T10:00:00Z,,,\n")
	code, out, errOut := runTally(t, "--config", cfg, "--now", now, "consent", "import", csv)
	if code != 0 || !strings.Contains(out, "recorded 4, skipped 0") || !strings.Contains(out, "invalid 1") ||
		!strings.Contains(errOut, "bookings.csv: line 6: advertising: want true or false") {
		t.Fatalf("consent import CSV: %d %q %q", code, out, errOut)
	}
	event := func(id, visitor string) string {
		return write(t, filepath.Join(dir, id+".ndjson"), `{"event_id":"`+id+`","event":"appointment_booked","visitor_id":"`+visitor+`"}`+"\n")
	}
	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "ingest", event("e1", "v1")); code != 0 || !strings.HasPrefix(out, "accepted 1") {
		t.Fatalf("ingest before forget: %d %q %q", code, out, errOut)
	}

	code, out, errOut = runTally(t, "--config", cfg, "--now", now, "consent", "lookup", "v1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "time") ||
		!strings.Contains(lines[1], "advertising  grant") || !strings.Contains(lines[2], "withdrawal  cmp") || !strings.Contains(lines[3], "grant       cmp") {
		t.Fatalf("consent lookup: %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, "Jane") {
		t.Errorf("lookup printed a column the import should have skipped: %s", out)
	}

	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "consent", "forget", "v1"); code != 0 || strings.TrimSpace(out) != "deleted 3 consent records" {
		t.Fatalf("consent forget: %d %q %q", code, out, errOut)
	}
	if code, out, _ := runTally(t, "--config", cfg, "--now", now, "consent", "lookup", "v1"); code != 0 || strings.TrimSpace(out) != "no consent records for this visitor" {
		t.Errorf("lookup after forget: %d %q", code, out)
	}
	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "ingest", event("e2", "v1")); code != 0 || !strings.Contains(out, "no_consent=1") {
		t.Errorf("ingest after forget: %d %q %q, want no_consent", code, out, errOut)
	}
	if code, out, _ := runTally(t, "--config", cfg, "--now", now, "ingest", event("e3", "v2")); code != 0 || !strings.HasPrefix(out, "accepted 1") {
		t.Errorf("another visitor after forget: %d %q, want accepted", code, out)
	}

	db := sqlfile.Open(t, filepath.Join(dir, "tally.db"))
	rows, err := db.Query(`SELECT detail FROM audit_log WHERE kind = 'purge'`)
	if err != nil {
		t.Fatal(err)
	}
	_, all := sqlfile.All(t, rows)
	if want := `{"records":3,"request":"forget","table":"consents","visitors":1}`; len(all) != 1 || all[0][0] != want {
		t.Errorf("purge entries = %v, want one: %s (no visitor id, no key)", all, want)
	}
	if _, err := db.Exec(`DELETE FROM consents`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("an ordinary DELETE on consents: %v, want refused", err)
	}
	if code, out, errOut := runTally(t, "--config", cfg, "audit", "verify"); code != 0 {
		t.Errorf("audit verify after forget: %d %q %q", code, out, errOut)
	}
}
