package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// TestVerifyDataCatchesScanEdits: a finding deleted to hide a pixel, a
// scan row edited, deleted or forged fail verify, the triggers dropped
// first; a clean scan passes.
func TestVerifyDataCatchesScanEdits(t *testing.T) {
	tests := []struct{ name, sql, want string }{
		{"finding deleted", `DELETE FROM scan_findings WHERE tracker = 'meta_pixel'`, "scan_findings scan id 2: findings by tracker"},
		{"finding retargeted", `UPDATE scan_findings SET tracker = 'none'`, "scan_findings scan id 2"},
		{"scan edited", `UPDATE scans SET findings = 0, pages = 1 WHERE id = 2`, "scans id 2: pages, failed or findings differ"},
		{"scan deleted", `DELETE FROM scan_findings WHERE scan_id = 2; DELETE FROM scans WHERE id = 2`, "scans id 2: recorded in the audit log but the row is gone"},
		{"scan forged", `INSERT INTO scans (scanned_at, targets, pages, scripts, skipped, failed, findings) VALUES ('2026-11-21T00:00:00.000Z', '[]', 9, 0, 0, 0, 0)`,
			"scans id 3: no scan entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t)
			at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
			for _, s := range []store.Scan{
				{ScannedAt: at, Targets: []string{"https://h.example/"}, Pages: 3},
				{ScannedAt: at, Targets: []string{"https://h.example/"}, Pages: 5, Findings: []store.ScanFinding{
					{Page: "https://h.example/a", Tracker: "meta_pixel", Evidence: "fbq(", Source: "html"},
					{Page: "https://h.example/b", Tracker: "meta_pixel", Evidence: "fbq(", Source: "html"},
					{Page: "https://h.example/b", Tracker: "ga4", Evidence: "gtag(", Source: "html"},
				}},
			} {
				if _, err := db.AddScan(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if c := verifyData(t, db); len(c.Problems) != 0 {
				t.Fatalf("intact: %v", c.Problems)
			}
			if _, err := sqlfile.Open(t, db.Path).Exec(`DROP TRIGGER scans_no_update; DROP TRIGGER scans_no_delete;
				DROP TRIGGER scan_findings_no_update; DROP TRIGGER scan_findings_no_delete; ` + tt.sql); err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, p := range verifyData(t, db).Problems {
				msgs = append(msgs, p.String())
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tt.want) {
				t.Errorf("problems = %q, want one saying %q", msgs, tt.want)
			}
		})
	}
}
