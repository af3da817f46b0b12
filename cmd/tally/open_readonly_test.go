package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/storetest"
)

// reportCommands are the commands that only read the database.
var reportCommands = [][]string{
	{"audit", "verify"},
	{"audit", "head"},
	{"audit", "log"},
	{"audit", "recount", "--date", "2026-11-01"},
	{"export"},
}

func TestReportCommandsNeverCreateOrAcceptANonDatabase(t *testing.T) {
	cfg, _ := rollupFixture(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "empty.db"), "")
	write(t, filepath.Join(dir, "notes.db"), strings.Repeat("not a database\n", 200))
	for _, args := range reportCommands {
		for name, want := range map[string]string{
			"missing.db": "no such database: " + filepath.Join(dir, "missing.db"),
			"empty.db":   "not a tally database",
			"notes.db":   "not a tally database",
		} {
			before := storetest.DirState(t, dir)
			code, _, errs := runTally(t, append([]string{"--config", cfg, "--db", filepath.Join(dir, name)}, args...)...)
			if code != 1 || !strings.Contains(errs, want) {
				t.Errorf("%v on %s: exit %d, %q; want 1 with %q", args, name, code, errs, want)
			}
			if after := storetest.DirState(t, dir); after != before {
				t.Errorf("%v on %s changed the folder:\n%s\nwant\n%s", args, name, after, before)
			}
		}
	}
}
