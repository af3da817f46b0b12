package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

func TestAddScan(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)

	if _, ok, err := db.LatestScan(ctx); err != nil || ok {
		t.Fatalf("empty database: ok = %v, err = %v", ok, err)
	}
	at := time.Date(2026, 6, 1, 3, 30, 0, 0, time.FixedZone("EST", -5*3600))
	clean := store.Scan{ScannedAt: at, Targets: []string{"https://example.org/"}, Pages: 12, Scripts: 4}
	if _, err := db.AddScan(ctx, clean); err != nil {
		t.Fatal(err)
	}
	found := store.Scan{
		ScannedAt: at.Add(24 * time.Hour), Targets: []string{"https://example.org/", "./export"}, Pages: 12, Scripts: 4, Skipped: 1,
		Findings: []store.ScanFinding{
			{Page: "https://example.org/", Tracker: "meta_pixel", TrackerID: "123456789", Evidence: "fbq('init','123456789')", Source: "https://example.org/js/site.js"},
			{Page: "https://example.org/about", Tracker: "hotjar", Evidence: "static.hotjar.com", Source: "https://example.org/about"},
		},
	}
	id, err := db.AddScan(ctx, found)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.LatestScan(ctx)
	if err != nil || !ok {
		t.Fatalf("latest: ok = %v, err = %v", ok, err)
	}
	if got.ID != id || !got.ScannedAt.Equal(found.ScannedAt) || !slices.Equal(got.Targets, found.Targets) ||
		got.Pages != 12 || got.Scripts != 4 || got.Skipped != 1 || !slices.Equal(got.Findings, found.Findings) {
		t.Errorf("latest scan = %+v, want %+v", got, found)
	}
	var stored string
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, "SELECT scanned_at FROM scans WHERE id = ?", id).Scan(&stored)
	if stored != "2026-06-02T08:30:00.000Z" {
		t.Errorf("scanned_at stored as %q, want UTC text", stored)
	}

	// Append-only: evidence cannot be edited after the fact.
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, "UPDATE scan_findings SET tracker = 'none'"); err == nil {
		t.Error("scan_findings accepted an UPDATE")
	}
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, "UPDATE scans SET findings = 0"); err == nil {
		t.Error("scans accepted an UPDATE")
	}
}
