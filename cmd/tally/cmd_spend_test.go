package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
)

// TestSpendImportCommand: a file is imported and counted; a file with one
// bad line exits 2 naming the line and stores nothing of it; a re-import
// replaces rows; each import is one audit entry, the chain verifies, and
// an amount edited by hand fails audit verify.
func TestSpendImportCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, filepath.Join(dir, "tally.toml"), fmt.Sprintf("[store]\npath = %q\n", filepath.Join(dir, "tally.db")))
	good := write(t, filepath.Join(dir, "spend.csv"), "\uFEFFday,platform,campaign,spend,currency\r\n"+
		"2026-11-01,meta,spring,12.50,EUR\r\n2026-11-02,google,spring,3.10,EUR\r\n")
	code, out, errs := runTally(t, "--config", cfg, "spend", "import", good)
	if code != 0 || out != "imported 2 rows (2 new, 0 replaced), 2026-11-01 to 2026-11-02\n" {
		t.Fatalf("import: exit %d, %q %s", code, out, errs)
	}

	bad := write(t, filepath.Join(dir, "bad.csv"), "day,platform,campaign,spend,currency\n"+
		"2026-11-01,meta,spring,99,EUR\n2026-11-03,meta,spring,1,EUR\n2026-11-03,tiktok,call_5551234567,1,EUR\n")
	code, out, errs = runTally(t, "--config", cfg, "spend", "import", bad)
	if code != 2 || out != "" || !strings.Contains(errs, "line 4: campaign (not shown) looks like a phone") || strings.Contains(errs, "5551234567") {
		t.Errorf("bad file: exit %d, %q %q; want exit 2 naming line 4 without the value", code, out, errs)
	}
	db := sqlfile.Open(t, filepath.Join(dir, "tally.db"))
	total := func() (rows int, sum int64, entries int) {
		t.Helper()
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM spend), (SELECT coalesce(sum(spend_micros), 0) FROM spend),
			(SELECT count(*) FROM audit_log WHERE kind = 'spend_import')`).Scan(&rows, &sum, &entries); err != nil {
			t.Fatal(err)
		}
		return rows, sum, entries
	}
	if rows, sum, entries := total(); rows != 2 || sum != 15_600_000 || entries != 1 {
		t.Errorf("after the bad file: %d rows, %d micros, %d entries; want the first import's 2, 15600000, 1", rows, sum, entries)
	}

	code, out, errs = runTallyStdin(t, "day,platform,campaign,spend,currency\n2026-11-01,meta,spring,13,EUR\n2026-11-05,linkedin,spring,0.01,EUR\n",
		"--config", cfg, "spend", "import", "-")
	if code != 0 || out != "imported 2 rows (1 new, 1 replaced), 2026-11-01 to 2026-11-05\n" {
		t.Errorf("re-import from stdin: exit %d, %q %s", code, out, errs)
	}
	if rows, sum, entries := total(); rows != 3 || sum != 16_110_000 || entries != 2 {
		t.Errorf("after the re-import: %d rows, %d micros, %d entries; want 3, 16110000, 2", rows, sum, entries)
	}
	if code, out, errs := runTally(t, "--config", cfg, "audit", "verify"); code != 0 {
		t.Errorf("audit verify: exit %d\n%s%s", code, out, errs)
	}
	// An amount edited outside an import no longer matches the last
	// import's hash.
	if _, err := db.Exec(`UPDATE spend SET spend_micros = 1 WHERE platform = 'linkedin'`); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runTally(t, "--config", cfg, "audit", "verify"); code != 1 || !strings.Contains(out, "MISMATCH spend table: the 3 rows do not match") {
		t.Errorf("audit verify after an edit: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"spend", "import"}, {"spend", "import", filepath.Join(dir, "missing.csv")},
		{"spend", "import", write(t, filepath.Join(dir, "empty.csv"), "")}} {
		if code, _, errs := runTally(t, append([]string{"--config", cfg}, args...)...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errs)
		}
	}
}
