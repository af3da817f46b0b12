package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

// rawControl reports the first control or bidirectional character in s.
func rawControl(s string) (rune, bool) {
	for _, r := range s {
		if r != '\n' && termsafe.String(string(r)) != string(r) {
			return r, true
		}
	}
	return 0, false
}

// TestOutputsEscapeControlCharacters checks every place a stored campaign
// or an outside message reaches a terminal: export (CSV and JSON on
// stdout), audit recount (quoted like the export), audit log, the upload
// summary and the final error line. The campaign was stored before intake
// refused such values.
func TestOutputsEscapeControlCharacters(t *testing.T) {
	const evil = "x,\"y\"\x1b]0;owned\x07\u202eevil"
	const escaped = `x,"y"\x1b]0;owned\a\u202eevil`
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "tally.db")
	cfg := write(t, filepath.Join(dir, "tally.toml"), fmt.Sprintf("[store]\npath = %q\nkey_file = %q\n", dbPath, filepath.Join(dir, "tally.key")))
	t.Setenv("TALLY_CONFIG", "")
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []storetest.Event
	for i := range 12 {
		evs = append(evs, storetest.Event{
			Cell:     tally.Cell{Day: "2026-11-01", Platform: "meta", Campaign: evil, Conversion: "booking"},
			EventKey: []byte(fmt.Sprintf("e%d", i)), VisitorKey: []byte(fmt.Sprintf("v%d", i))})
	}
	storetest.WriteEvents(t, db, evs...)
	if err := db.AppendAudit(ctx, "note", map[string]string{"campaign": evil}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-03T03:00:00Z", "rollup"); code != 0 {
		t.Fatalf("rollup: %d %s %s", code, out, errOut)
	}

	outputs := map[string]string{}
	for name, args := range map[string][]string{
		"export csv":    {"export", "--from", "2026-11-01", "--to", "2026-11-01"},
		"export json":   {"export", "--format", "json", "--from", "2026-11-01", "--to", "2026-11-01"},
		"audit recount": {"audit", "recount", "--date", "2026-11-01"},
		"audit log":     {"audit", "log"},
	} {
		code, out, errOut := runTally(t, append([]string{"--config", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", name, code, errOut)
		}
		outputs[name] = out
	}
	var sum bytes.Buffer
	job.PrintUploads(&sum, []batch.Summary{{Platform: "meta", Err: errors.New("meta: 400: campaign " + evil + "\nforged line")}}, "")
	outputs["upload summary"] = sum.String()
	_, _, outputs["error line"] = runTally(t, "--config", filepath.Join(dir, "missing\x1b[2J\u202e.toml"), "export")

	for name, out := range outputs {
		if r, ok := rawControl(out); ok {
			t.Errorf("%s writes a raw %U:\n%q", name, r, out)
		}
	}
	if n := strings.Count(outputs["upload summary"], "\n"); n != 1 {
		t.Errorf("upload summary has %d lines, want 1: %q", n, outputs["upload summary"])
	}
	for _, name := range []string{"export csv", "audit recount"} {
		// The header and the one cell; recount then prints its verdict.
		table := strings.Join(strings.SplitN(outputs[name], "\n", 3)[:2], "\n")
		rows, err := csv.NewReader(strings.NewReader(table)).ReadAll()
		if err != nil || len(rows) != 2 || len(rows[1]) != len(rows[0]) || rows[1][2] != escaped {
			t.Errorf("%s: rows %q (%v), want the campaign %q in column 3", name, rows, err, escaped)
		}
	}
	if !strings.Contains(outputs["export json"], `"campaign": "x,\"y\"\\x1b]0;owned\\a\\u202eevil"`) {
		t.Errorf("export json: campaign not escaped:\n%s", outputs["export json"])
	}
}
