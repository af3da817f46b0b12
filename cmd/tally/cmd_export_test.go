package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const exportHeader = "day,platform,campaign,conversion,count,status,uncertain,carried_in,delivery\n"

const wantExportCSV = exportHeader + `2026-11-01,meta,a,booking,12,released,0,,
2026-11-01,meta,b,booking,,held,0,,
2026-11-01,none,,lead,,held,0,,
2026-11-02,meta,b,booking,12,released,0,2026-11-01,
2026-11-02,none,,lead,,suppressed,0,2026-11-01,
`

func TestExportCommand(t *testing.T) {
	cfg, _ := rollupFixture(t)
	if code, out, errs := runTally(t, "export", "--config", cfg); code != 0 || out != exportHeader {
		t.Errorf("before any seal: exit %d, %q %s", code, out, errs)
	}
	if code, _, errs := runTally(t, "rollup", "--config", cfg, "--now", "2026-11-03T03:00:00Z"); code != 0 {
		t.Fatalf("rollup: %s", errs)
	}

	code, out, errs := runTally(t, "export", "--config", cfg)
	if code != 0 || out != wantExportCSV {
		t.Errorf("export csv: exit %d (%s)\n%s\nwant\n%s", code, errs, out, wantExportCSV)
	}

	code, out, _ = runTally(t, "export", "--config", cfg, "--from", "2026-11-02", "--to", "2026-11-02", "--format", "json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("export json: exit %d, %v\n%s", code, err, out)
	}
	want := []map[string]any{
		{"day": "2026-11-02", "platform": "meta", "campaign": "b", "conversion": "booking", "count": 12.0, "status": "released", "uncertain": 0.0,
			"carried_in": "2026-11-01", "delivery": ""},
		{"day": "2026-11-02", "platform": "none", "campaign": "", "conversion": "lead", "count": nil, "status": "suppressed", "uncertain": 0.0,
			"carried_in": "2026-11-01", "delivery": ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("export json:\n%v\nwant\n%v", got, want)
	}

	file := filepath.Join(t.TempDir(), "counts.csv")
	if code, out, errs := runTally(t, "export", "--config", cfg, "-o", file); code != 0 || out != "" || !strings.Contains(errs, "wrote 5 rows") {
		t.Errorf("export -o: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != wantExportCSV {
		t.Errorf("export file: %v\n%s", err, b)
	}

	if code, out, _ := runTally(t, "export", "--config", cfg, "--from", "2026-11-02", "--to", "2026-11-02"); code != 0 ||
		out != exportHeader+"2026-11-02,meta,b,booking,12,released,0,2026-11-01,\n2026-11-02,none,,lead,,suppressed,0,2026-11-01,\n" {
		t.Errorf("export one day: exit %d\n%s", code, out)
	}
	// A month for --from and --to, grouped by month: one row per cell.
	wantMonth := exportHeader + `2026-11-01,meta,a,booking,12,released,0,,
2026-11-01,meta,b,booking,12,released,0,,
2026-11-01,none,,lead,,suppressed,0,,
`
	for _, args := range [][]string{{"--from", "2026-11", "--to", "2026-11", "--group", "month"}, {"--from", "2026-11-01", "--to", "2026-11-30", "--group", "month"},
		{"--from", "2026-10", "--group", "month"}} {
		if code, out, errs := runTally(t, append([]string{"export", "--config", cfg}, args...)...); code != 0 || out != wantMonth {
			t.Errorf("export %v: exit %d (%s)\n%s\nwant\n%s", args, code, errs, out, wantMonth)
		}
	}
	// --to 2026-10 is the last day of October: nothing sealed.
	if code, out, errs := runTally(t, "export", "--config", cfg, "--from", "2026-10", "--to", "2026-10", "--group", "week"); code != 0 || out != exportHeader {
		t.Errorf("export of October: exit %d (%s)\n%s", code, errs, out)
	}
	// ISO weeks: 2026-11-01 is a Sunday, the last day of the week of 2026-10-26.
	wantWeek := exportHeader + `2026-10-26,meta,a,booking,12,released,0,,
2026-10-26,meta,b,booking,,held,0,,
2026-10-26,none,,lead,,held,0,,
2026-11-02,meta,b,booking,12,released,0,2026-11-01,
2026-11-02,none,,lead,,suppressed,0,2026-11-01,
`
	if code, out, errs := runTally(t, "export", "--config", cfg, "--group", "week"); code != 0 || out != wantWeek {
		t.Errorf("export --group week: exit %d (%s)\n%s\nwant\n%s", code, errs, out, wantWeek)
	}
	for _, bad := range [][]string{{"--format", "xml"}, {"--from", "11/02/2026"}, {"--from", "2026-11-03", "--to", "2026-11-01"},
		{"--from", "2026-11", "--to", "2026-10"}, {"--to", "2026-13"}, {"--from", "2026"}, {"--group", "year"}, {"--group", "Week"}} {
		if code, _, errs := runTally(t, append([]string{"export", "--config", cfg}, bad...)...); code != 2 {
			t.Errorf("export %v: exit %d (%s), want 2", bad, code, errs)
		}
	}
}
