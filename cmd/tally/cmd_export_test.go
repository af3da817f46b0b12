package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const wantExportCSV = `day,platform,campaign,conversion,count,status,uncertain
2026-11-01,meta,a,booking,12,released,0
2026-11-01,meta,b,booking,,held,0
2026-11-01,none,,lead,,held,0
2026-11-02,meta,b,booking,12,released,0
2026-11-02,none,,lead,,suppressed,0
`

func TestExportCommand(t *testing.T) {
	cfg, _ := rollupFixture(t)
	if code, out, errs := runTally(t, "export", "--config", cfg); code != 0 || out != "day,platform,campaign,conversion,count,status,uncertain\n" {
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
		{"day": "2026-11-02", "platform": "meta", "campaign": "b", "conversion": "booking", "count": 12.0, "status": "released", "uncertain": 0.0},
		{"day": "2026-11-02", "platform": "none", "campaign": "", "conversion": "lead", "count": nil, "status": "suppressed", "uncertain": 0.0},
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
		out != "day,platform,campaign,conversion,count,status,uncertain\n2026-11-02,meta,b,booking,12,released,0\n2026-11-02,none,,lead,,suppressed,0\n" {
		t.Errorf("export one day: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"--format", "xml"}, {"--from", "11/02/2026"}, {"--from", "2026-11-03", "--to", "2026-11-01"}} {
		if code, _, errs := runTally(t, append([]string{"export", "--config", cfg}, bad...)...); code != 2 {
			t.Errorf("export %v: exit %d (%s), want 2", bad, code, errs)
		}
	}
}
