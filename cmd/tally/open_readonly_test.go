package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// reportCommands are the commands that only read the database.
var reportCommands = [][]string{
	{"audit", "verify"},
	{"audit", "head"},
	{"audit", "log"},
	{"audit", "recount", "--date", "2026-11-01"},
	{"export"},
}

// dirState is a folder's names, modes, sizes and modification times.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %v %d %s", e.Name(), fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano)))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
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
			before := dirState(t, dir)
			code, _, errs := runTally(t, append([]string{"--config", cfg, "--db", filepath.Join(dir, name)}, args...)...)
			if code != 1 || !strings.Contains(errs, want) {
				t.Errorf("%v on %s: exit %d, %q; want 1 with %q", args, name, code, errs, want)
			}
			if after := dirState(t, dir); after != before {
				t.Errorf("%v on %s changed the folder:\n%s\nwant\n%s", args, name, after, before)
			}
		}
	}
}
