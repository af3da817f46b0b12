package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// sealedUpload builds a file with one sealed day (PLATFORM/a/booking
// released 6) and returns its queued, unfinished uploads row.
func sealedUpload(t *testing.T, platform tally.Platform) (*store.DB, tally.Cell, *store.Upload, time.Time) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	day, now := tally.Day("2026-11-20"), time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	cell := tally.Cell{Day: day, Platform: platform, Campaign: "a", Conversion: "booking"}
	addCell(t, db, cell, 6)
	if _, err := db.SealDay(ctx, day, now, nil, releaseAll); err != nil {
		t.Fatal(err)
	}
	if _, err := db.QueueUploads(ctx, platform, "", now); err != nil {
		t.Fatal(err)
	}
	ups, err := db.UnfinishedUploads(ctx, platform, "", false)
	if err != nil || len(ups) != 1 {
		t.Fatalf("uploads %v %v", ups, err)
	}
	return db, cell, ups[0], now
}

// ledgerDB builds a file with one sealed day (meta/a/booking released 6),
// one request that carried the 6 conversions and was acknowledged, and the
// day's events purged.
func ledgerDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, cell, u, now := sealedUpload(t, "meta")
	u.Attempts++
	id, err := db.BeginUploadRequest(ctx, &store.UploadRequest{Platform: "meta", Method: "POST", URL: "https://graph.example/events",
		Body: []byte(`{"data":[1,2,3,4,5,6]}`), Attempt: 1, SentAt: now, Parts: []store.RequestPart{{Cell: cell, First: 0, N: 6}}}, []*store.Upload{u})
	if err != nil {
		t.Fatal(err)
	}
	u.Next, u.Acked, u.State = 6, 6, tally.Sent
	if err := db.FinishUploadRequest(ctx, id, &store.UploadResponse{Status: 200, Body: []byte(`{"events_received":6}`), ReceivedAt: now},
		[]*store.Upload{u}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PurgeEvents(ctx, "2026-11-21", now); err != nil {
		t.Fatal(err)
	}
	return db
}

func verifyData(t *testing.T, db *store.DB) store.DataCheck {
	t.Helper()
	if _, _, err := db.VerifyAudit(context.Background()); err != nil {
		t.Fatalf("chain: %v", err)
	}
	c, err := db.VerifyData(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// editCaught makes the edit on db's file, as a tamperer with sqlite3
// would, and fails the test unless verify then reports a problem saying
// want.
func editCaught(t *testing.T, db *store.DB, edit, want string) {
	t.Helper()
	if _, err := sqlfile.Open(t, db.Path).Exec(edit); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, p := range verifyData(t, db).Problems {
		msgs = append(msgs, p.String())
	}
	if !strings.Contains(strings.Join(msgs, "\n"), want) {
		t.Errorf("problems = %q, want one saying %q", msgs, want)
	}
}

func TestVerifyDataIntact(t *testing.T) {
	c := verifyData(t, ledgerDB(t))
	if len(c.Problems) != 0 || c.SealedDays != 1 || c.Requests != 1 || c.Uploads != 1 || c.Purges != 1 {
		t.Errorf("check = %+v, want everything matched", c)
	}
}

// TestVerifyDataCatchesEdits makes the edits a tamperer with sqlite3 would
// (dropping the trigger in the way) and expects the problem named.
func TestVerifyDataCatchesEdits(t *testing.T) {
	tests := []struct {
		name, sql, table, reason string
	}{
		{"released count raised", `DROP TRIGGER daily_counts_no_update; UPDATE daily_counts SET released_count = 600, total = 600`,
			"daily_counts", "do not match the hash"},
		{"sealed row deleted", `DROP TRIGGER daily_counts_no_delete; DELETE FROM daily_counts`, "daily_counts", "do not match the hash"},
		{"day added", `INSERT INTO daily_counts SELECT '2026-11-18', platform, campaign, conversion, raw_count, carried_in, noise, total,
			released_count, status, carry_age, gate_min_count, gate_small_counts, gate_carry_days, gate_noise, gate_epsilon, sealed_at
			FROM daily_counts`, "daily_counts", "no seal"},
		{"request body edited", `DROP TRIGGER upload_requests_body_fixed; UPDATE upload_requests SET body = '{"data":[1]}'`,
			"upload_requests", "body does not match"},
		{"response edited", `DROP TRIGGER upload_requests_body_fixed; UPDATE upload_requests SET response = '{"events_received":60}'`,
			"upload_requests", "response does not match"},
		{"status edited", `UPDATE upload_requests SET status = 500`, "upload_requests", "status 500"},
		{"request deleted", `DELETE FROM upload_request_cells; DELETE FROM upload_requests`, "upload_requests", "row is gone"},
		{"prune forged", `UPDATE upload_requests SET body = '', response = NULL, pruned_at = '2026-11-22T00:00:00.000Z'`,
			"upload_requests", "no recorded prune"},
		{"acked inflated", `UPDATE uploads SET acked = 7, count = 7, next_index = 7`, "uploads", ""},
		{"purge forged", `INSERT INTO purges (day, events, purged_at) VALUES ('2026-11-19', 5, '2026-11-21T03:00:00.000Z')`,
			"purges", "no purge entry"},
		{"purge row deleted", `DELETE FROM purges`, "purges", "no purges row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := ledgerDB(t)
			if _, err := sqlfile.Open(t, db.Path).Exec(tt.sql); err != nil {
				t.Fatal(err)
			}
			c := verifyData(t, db)
			for _, p := range c.Problems {
				if p.Table == tt.table && strings.Contains(p.Reason, tt.reason) {
					return
				}
			}
			t.Errorf("problems = %v, want one in %s saying %q", c.Problems, tt.table, tt.reason)
		})
	}
}

func TestVerifyDataUploadsBeyondRequests(t *testing.T) {
	db := ledgerDB(t)
	// Only conversions 0..3 were carried (twice: a retry), yet 6 are acked.
	editCaught(t, db, `UPDATE upload_request_cells SET n = 4;
		INSERT INTO upload_request_cells SELECT request_id, day, platform, campaign, conversion, 0, 4 FROM upload_request_cells`,
		"uploads 2026-11-20/meta/a/booking: acked 6 + rejected 0 + uncertain 0 exceed the 4 conversions")
}

// TestVerifyDataCatchesStateEdits: edits that let a different key in,
// reopen a sealed day, let consents be deleted without a purge, or make
// the next upload send a cell again fail verify.
func TestVerifyDataCatchesStateEdits(t *testing.T) {
	tests := []struct {
		name, sql, want string
	}{
		{"fingerprint swapped", `DROP TRIGGER key_fingerprint_no_update; UPDATE key_fingerprint SET fingerprint = hex(randomblob(32))`,
			"key_fingerprint id 1: differs from the fingerprint the audit log recorded"},
		{"fingerprint deleted", `DROP TRIGGER key_fingerprint_no_delete; DELETE FROM key_fingerprint`,
			"key_fingerprint id 1: the audit log records a key fingerprint, the row is gone"},
		{"day unsealed", `UPDATE days SET sealed_at = NULL`, "days 2026-11-20: sealed in the audit log, but not marked sealed"},
		{"day row deleted", `DELETE FROM days`, "days 2026-11-20: sealed in the audit log, the row is gone"},
		{"purge mark left", `INSERT INTO consent_purge_marks (visitor_key) VALUES (x'01')`, "consent_purge_marks 1 rows: marks outside a purge"},
		{"uploads row deleted", `DELETE FROM uploads`, "uploads 2026-11-20/meta/a/booking: carried by upload requests, but the row is gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := ledgerDB(t)
			if err := db.CheckKey(context.Background(), []byte("0123456789abcdef0123456789abcdef"), time.Now()); err != nil {
				t.Fatal(err)
			}
			if c := verifyData(t, db); len(c.Problems) != 0 {
				t.Fatalf("intact: %v", c.Problems)
			}
			editCaught(t, db, tt.sql, tt.want)
		})
	}
}

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
			editCaught(t, db, `DROP TRIGGER scans_no_update; DROP TRIGGER scans_no_delete;
				DROP TRIGGER scan_findings_no_update; DROP TRIGGER scan_findings_no_delete; `+tt.sql, tt.want)
		})
	}
}
