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

// TestPruneLedger: bodies and answers of requests sent before the cutoff
// go, the rows stay marked pruned_at with a purge entry, verify still
// passes, and an ordinary edit of a body is refused.
func TestPruneLedger(t *testing.T) {
	ctx := context.Background()
	db := ledgerDB(t) // one request, sent 2026-11-21T03:00Z
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE upload_requests SET body = 'x'`); err == nil || !strings.Contains(err.Error(), "recorded prune") {
		t.Errorf("edit of a body: %v, want refused", err)
	}
	now := time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)
	p, err := db.PruneLedger(ctx, time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC))
	if err != nil || p.Requests != 0 {
		t.Fatalf("prune at the send time = %+v %v, want nothing (cutoff exclusive)", p, err)
	}
	p, err = db.PruneLedger(ctx, now.AddDate(0, 0, -400))
	if err != nil || p.Requests != 1 || p.FirstID != 1 || p.LastID != 1 {
		t.Fatalf("prune = %+v %v", p, err)
	}
	var body string
	var response, prunedAt *string
	sqlfile.Open(t, db.Path).QueryRow(`SELECT body, response, pruned_at FROM upload_requests`).Scan(&body, &response, &prunedAt)
	if body != "" || response != nil || prunedAt == nil {
		t.Errorf("after prune: body %q response %v pruned_at %v", body, response, prunedAt)
	}
	var entries int
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM audit_log WHERE kind = 'purge' AND json_extract(detail, '$.table') = 'upload_requests'
		AND json_extract(detail, '$.requests') = 1 AND json_extract(detail, '$.pruned_at') = ?`, *prunedAt).Scan(&entries)
	if entries != 1 {
		t.Errorf("%d purge entries for the prune, want 1", entries)
	}
	if c := verifyData(t, db); len(c.Problems) != 0 || c.Pruned != 1 {
		t.Errorf("verify after prune: %+v", c)
	}
	if p, err := db.PruneLedger(ctx, now); err != nil || p.Requests != 0 {
		t.Errorf("second prune = %+v %v, want nothing", p, err)
	}
}

// TestPurgeConsents: only visitors whose latest record is older than the
// cutoff lose their history; an ordinary DELETE stays refused.
func TestPurgeConsents(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	old := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	add := func(visitor string, granted bool, at time.Time) {
		rec := store.Consent{VisitorKey: []byte(visitor), Purpose: "advertising", Granted: granted, Time: at}
		if err := db.AddConsents(ctx, []store.Consent{rec}, at); err != nil {
			t.Fatal(err)
		}
	}
	add("stale", true, old)
	add("stale", false, old.Add(time.Hour))
	add("active", true, old) // old grant, but withdrawn recently: kept whole
	add("active", false, recent)
	if _, err := sqlfile.Open(t, db.Path).Exec(`DELETE FROM consents WHERE visitor_key = ?`, []byte("stale")); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("ordinary DELETE: %v, want refused", err)
	}
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	p, err := db.PurgeConsents(ctx, now.AddDate(0, 0, -400))
	if err != nil || p.Visitors != 1 || p.Records != 2 {
		t.Fatalf("purge = %+v %v, want 1 visitor, 2 records", p, err)
	}
	var left, marks, entries int
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM consents WHERE visitor_key = ?`, []byte("active")).Scan(&left)
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM consent_purge_marks`).Scan(&marks)
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM audit_log WHERE kind = 'purge' AND json_extract(detail, '$.table') = 'consents'
		AND json_extract(detail, '$.records') = 2`).Scan(&entries)
	if left != 2 || marks != 0 || entries != 1 {
		t.Errorf("active rows %d (want 2), marks left %d (want 0), purge entries %d (want 1)", left, marks, entries)
	}
	if _, ok, _ := db.ConsentAt(ctx, []byte("stale"), "advertising", now); ok {
		t.Error("a purged visitor still has consent")
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`DELETE FROM consents`); err == nil {
		t.Error("an ordinary DELETE passed after a purge")
	}
	if p, err := db.PurgeConsents(ctx, now.AddDate(0, 0, -400)); err != nil || p.Visitors != 0 {
		t.Errorf("second purge = %+v %v", p, err)
	}
}

// TestScansAppendOnly: the docs promise scans and scan_findings are
// append-only; DELETE is refused too.
func TestScansAppendOnly(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	if _, err := db.AddScan(ctx, store.Scan{ScannedAt: time.Now(), Targets: []string{"https://example.org/"}, Pages: 1,
		Findings: []store.ScanFinding{{Page: "https://example.org/", Tracker: "meta_pixel", Evidence: "fbq", Source: "https://example.org/"}}}); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"scan_findings", "scans"} {
		if _, err := sqlfile.Open(t, db.Path).Exec(`DELETE FROM ` + table); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("DELETE FROM %s: %v, want refused", table, err)
		}
	}
}

// TestPurgedConsentLeavesTheWriterCache: once purged, a visitor's cached
// grant is no longer seen by the intake writer (same handle).
func TestPurgedConsentLeavesTheWriterCache(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	storetest.Grant(t, db, []byte("v"), t0)
	if got := writerConsent(t, db, "v", t0.Add(time.Minute)); got != "granted since 08:00:00" {
		t.Fatalf("with the grant: %s", got)
	}
	if p, err := db.PurgeConsents(ctx, t0.Add(time.Second)); err != nil || p.Visitors != 1 {
		t.Fatalf("purge = %+v %v", p, err)
	}
	if got := writerConsent(t, db, "v", t0.Add(2*time.Minute)); got != "none" {
		t.Errorf("after the purge: %s, want none", got)
	}
}
