package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConsentSubjectIDFromStdin: `tally consent lookup -` and `forget -`
// read the visitor id from standard input (one line), so it is in neither
// the shell's history nor the process list; an empty line is refused.
func TestConsentSubjectIDFromStdin(t *testing.T) {
	dir, cfg := intakeDir(t)
	now := "2026-11-20T12:00:00Z"
	csv := write(t, filepath.Join(dir, "c.csv"), "visitor_id,advertising,time\nv-stdin,true,2026-11-18T09:00:00Z\n")
	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "consent", "import", csv); code != 0 || !strings.Contains(out, "recorded 1") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runTallyStdin(t, "v-stdin\n", "--config", cfg, "--now", now, "consent", "lookup", "-"); code != 0 || !strings.Contains(out, "advertising  grant") {
		t.Errorf("lookup -: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runTallyStdin(t, "\n", "--config", cfg, "--now", now, "consent", "forget", "-"); code != 2 || !strings.Contains(errOut, "no visitor id") {
		t.Errorf("forget - with an empty line: %d %q %q, want exit 2", code, out, errOut)
	}
	if code, out, errOut := runTallyStdin(t, "v-stdin\r\n", "--config", cfg, "--now", now, "consent", "forget", "-"); code != 0 || strings.TrimSpace(out) != "deleted 1 consent records" {
		t.Errorf("forget -: %d %q %q", code, out, errOut)
	}
}
