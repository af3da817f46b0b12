package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// TestConsentImportStoresOnlyAllowedLabels checks `tally consent import`
// with the default consent.sources and consent.versions: a record without
// a source is stored as "import", a label outside the lists is not stored,
// and every decision is kept.
func TestConsentImportStoresOnlyAllowedLabels(t *testing.T) {
	dir, cfg := intakeDir(t)
	file := write(t, filepath.Join(dir, "consent.ndjson"), strings.Join([]string{
		`{"visitor_id":"v1","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z"}`,
		`{"visitor_id":"v2","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z","source":"MRN:00123456","version":"DOB-1975-03-12"}`,
		`{"visitor_id":"v3","purposes":{"advertising":false},"time":"2026-11-19T00:00:00Z","source":"cmp","version":"Diagnosis-HIV-positive"}`,
	}, "\n")+"\n")
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-20T12:00:00Z", "consent", "import", file); code != 0 || !strings.Contains(out, "recorded 3") {
		t.Fatalf("consent import: %d %q %q", code, out, errOut)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "tally.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := sqlfile.Open(t, db.Path).Query(`SELECT granted, coalesce(source, '-'), coalesce(version, '-') FROM consents ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var granted, source, version string
		if err := rows.Scan(&granted, &source, &version); err != nil {
			t.Fatal(err)
		}
		got = append(got, granted+"/"+source+"/"+version)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "1/import/- 1/-/- 0/cmp/-"; strings.Join(got, " ") != want {
		t.Errorf("consents = %q, want %q", strings.Join(got, " "), want)
	}
}
