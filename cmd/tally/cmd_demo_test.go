package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoTwiceInAnEmptyFolder(t *testing.T) {
	t.Setenv("TALLY_SECRET", "")
	t.Setenv("TALLY_CONFIG", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "tally.db")
	for run := 1; run <= 2; run++ {
		code, out, errOut := runTally(t, "--db", db, "demo")
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, code, out, errOut)
		}
		for _, want := range []string{"accepted 136, duplicate 1", "gpc=2", "no_consent=14", "unmapped_event=2", "bad_campaign=1",
			"sealed ", "released", "carried", "meta: ", "dry run (bodies in", "4. report", "file://" + filepath.ToSlash(filepath.Join(dir, "tally-report.html")), "Where to look"} {
			if !strings.Contains(out, want) {
				t.Errorf("run %d: output lacks %q:\n%s", run, want, out)
			}
		}
	}
	for _, p := range []string{"meta", "google", "tiktok", "linkedin"} {
		files, _ := filepath.Glob(filepath.Join(dir, "outbox", p, "*.json"))
		if len(files) == 0 {
			t.Errorf("no outbox body for %s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tally.key")); err != nil {
		t.Errorf("key file not created: %v", err)
	}
	// The demo ends with the report beside the database, every campaign on it.
	page, err := os.ReadFile(filepath.Join(dir, "tally-report.html"))
	if err != nil {
		t.Fatalf("the demo wrote no report: %v", err)
	}
	for _, want := range []string{"Campaign results", "spring_checkup", "flu_shots", "new_clinic", "careers_fair"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the demo's report lacks %q", want)
		}
	}
	// The sample events carried personal data; none of it is anywhere.
	phi := []string{"patient0", "biopsy", "Jane", "198.51.100", "oncology", "demo-visitor", "Mozilla", "lab_result", "+1-555"}
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, m := range phi {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("%q found in %s", m, path)
			}
		}
		return nil
	})
	if code, out, _ := runTally(t, "--db", db, "audit", "verify"); code != 0 {
		t.Errorf("audit verify after demo: %d %s", code, out)
	}
}

func TestDemoRefusesARealDatabase(t *testing.T) {
	_, cfg := intakeDir(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "tally.db")
	empty := write(t, filepath.Join(dir, "none.ndjson"), "")
	if code, _, errOut := runTally(t, "--config", cfg, "--db", db, "consent", "import", empty); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut := runTally(t, "--db", db, "demo")
	if code != exitUsage || !strings.Contains(errOut, "was not created by tally demo") {
		t.Errorf("exit %d %q, want 2", code, errOut)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("the real database was removed: %v", err)
	}
}
