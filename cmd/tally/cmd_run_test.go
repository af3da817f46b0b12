package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

// pipelineFixture writes a config whose Meta uploader points at endpoint,
// grants consent to 12 visitors and ingests one booking per visitor on
// each of days (campaign spring via facebook, so each day's Meta cell
// reaches min_count 11). It returns the config path and database path.
func pipelineFixture(t *testing.T, endpoint string, now string, days ...string) (string, string) {
	t.Helper()
	setSecrets(t)
	t.Setenv("TALLY_SECRET", "run-test-secret-0123456789")
	t.Setenv("TALLY_CONFIG", "")
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "tally.db")
	cfg := write(t, filepath.Join(dir, "tally.toml"), fmt.Sprintf(`[store]
path = %q
[uploaders.meta]
enabled = true
endpoint = %q
dataset_id = "123456"
rate = 100000.0
`, dbPath, endpoint))
	var consents, events strings.Builder
	for v := 0; v < 12; v++ {
		fmt.Fprintf(&consents, `{"visitor_id":"v%d","purposes":{"advertising":true},"time":"2026-11-01T00:00:00Z"}`+"\n", v)
		for _, d := range days {
			fmt.Fprintf(&events, `{"event_id":"%s-%d","event":"appointment_booked","visitor_id":"v%d","time":"%sT10:00:00Z","source":"facebook","campaign":"spring"}`+"\n", d, v, v, d)
		}
	}
	cf := write(t, filepath.Join(dir, "consent.ndjson"), consents.String())
	ef := write(t, filepath.Join(dir, "events.ndjson"), events.String())
	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "consent", "import", cf); code != 0 {
		t.Fatalf("consent import: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "ingest", ef); code != 0 || !strings.HasPrefix(out, fmt.Sprintf("accepted %d,", 12*len(days))) {
		t.Fatalf("ingest: %d %s %s", code, out, errOut)
	}
	return cfg, dbPath
}

func TestRunCatchesUpMissedDaysAndUploads(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, dbPath := pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-16", "2026-11-17", "2026-11-18")
	// The machine was down for three days: one run seals all of them.
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "run")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, d := range []string{"2026-11-16", "2026-11-17", "2026-11-18"} {
		if !strings.Contains(out, "sealed "+d+": 12 events") {
			t.Errorf("run output lacks the seal of %s:\n%s", d, out)
		}
	}
	if !strings.Contains(out, "meta: 36 sent, 0 failed") || !strings.Contains(out, "run: ok") {
		t.Errorf("run output:\n%s", out)
	}
	if ids, repeats := f.distinct("meta"); ids != 36 || repeats != 0 {
		t.Errorf("fake Meta received %d distinct conversions (%d repeats), want 36", ids, repeats)
	}
	// Nothing left: a second run changes nothing and sends nothing.
	before := f.total()
	code, out, _ = runTally(t, "--config", cfg, "--now", "2026-11-19T05:00:00Z", "run")
	if code != 0 || !strings.Contains(out, "nothing to seal") || f.total() != before {
		t.Errorf("second run: exit %d, %d new requests\n%s", code, f.total()-before, out)
	}
	// Every step left its audit trace, and the chain is intact.
	code, out, _ = runTally(t, "--config", cfg, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit log intact") {
		t.Errorf("audit verify: %d %s", code, out)
	}
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kinds := map[string]int{}
	db.AuditEntries(context.Background(), "", func(e store.AuditEntry) error { kinds[e.Kind]++; return nil })
	for kind, want := range map[string]int{"run_config": 2, "rollup": 3, "upload_request": 1, "upload_answer": 1, "consent_import": 1, "intake": 1} {
		if kinds[kind] != want {
			t.Errorf("audit entries of kind %s: %d, want %d (all: %v)", kind, kinds[kind], want, kinds)
		}
	}
	code, out, _ = runTally(t, "--config", cfg, "audit", "recount", "--date", "2026-11-17")
	if code != 0 || !strings.Contains(out, "all 1 cells agree") {
		t.Errorf("recount: %d %s", code, out)
	}
	// An event removed behind tally's back: recount names the cell, exit 1.
	if _, err := sqlfile.Open(t, db.Path).Exec(`DELETE FROM events WHERE dedup_key = (SELECT min(dedup_key) FROM events WHERE day = '2026-11-17')`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runTally(t, "--config", cfg, "audit", "recount", "--date", "2026-11-17")
	if code != exitFailure || !strings.Contains(out, "2026-11-17,meta,spring,booking,12,11,MISMATCH") || !strings.Contains(errOut, "1 of 1 cells") {
		t.Errorf("recount after tampering: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runTally(t, "--config", cfg, "audit", "recount", "--date", "2026-11-19"); code != exitFailure || !strings.Contains(errOut, "not sealed") {
		t.Errorf("recount of an open day: exit %d %q", code, errOut)
	}
}

func TestRunExitCodes(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, dbPath := pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-18")

	// Another run holds the lock: exit 1 at once, nothing sealed.
	db, lock := holdRunLock(t, dbPath) // the holder is this (live) test process
	code, _, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "run")
	if code != exitFailure || !strings.Contains(errOut, "run: another tally process ("+job.LockOwner()) {
		t.Errorf("locked: exit %d %q, want 1", code, errOut)
	}
	if sealed := sealedDays(t, db); sealed != 0 {
		t.Errorf("a locked-out run sealed %d days", sealed)
	}
	lock.Release(context.Background())

	// A missing credential is a configuration error: exit 2, nothing done.
	t.Setenv("TALLY_META_TOKEN", "")
	if code, _, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "run"); code != exitUsage || !strings.Contains(errOut, "TALLY_META_TOKEN") {
		t.Errorf("missing credential: exit %d %q, want 2", code, errOut)
	}
	// A platform that refuses the token: the day is sealed, the upload
	// fails, exit 1, and the token appears nowhere in the output.
	t.Setenv("TALLY_META_TOKEN", "wrong-token")
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T04:00:00Z", "run")
	if code != exitFailure || !strings.Contains(out, "sealed 2026-11-18") || !strings.Contains(out, "meta: 0 sent, 12 failed") {
		t.Errorf("refused token: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "wrong-token") {
		t.Error("token in output")
	}
	// Bad configuration: exit 2.
	bad := write(t, filepath.Join(t.TempDir(), "bad.toml"), "[schedule]\ncron = \"every day\"\n")
	if code, _, errOut := runTally(t, "--config", bad, "run"); code != exitUsage || !strings.Contains(errOut, "schedule.cron") {
		t.Errorf("bad config: exit %d %q", code, errOut)
	}
}
