package batch_test

import (
	"context"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

func TestPurgeRetention(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	for _, d := range []tally.Day{"2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"} {
		addEvents(t, db, d, "meta", "c", "booking", 2)
	}
	// 2026-11-27 stays open: its events are never purged, however old.
	if _, err := roller(db, gate(1, tally.Carry, 7), "2026-11-27T03:00:00Z").RollupDue(ctx); err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	// 2026-12-31T03:00Z is still 2026-12-30 in New York: cutoff 2026-11-25.
	now := time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC)
	p, err := batch.Purge(ctx, db, 35, ny, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cutoff != "2026-11-25" || p.Events != 2 || len(p.Days) != 1 || p.Days[0].Day != "2026-11-24" {
		t.Errorf("purge %+v", p)
	}
	p, err = batch.Purge(ctx, db, 1, time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cutoff != "2026-12-30" || p.Events != 4 || len(p.Days) != 2 {
		t.Errorf("purge %+v", p)
	}
	var left int
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&left)
	if left != 2 {
		t.Errorf("%d events left, want the open day's 2", left)
	}
}

// TestPruneHistory: store.ledger_retention_days and
// store.consent_retention_days count back from now.
func TestPruneHistory(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := db.AddConsents(ctx, []store.Consent{{VisitorKey: []byte("v"), Purpose: "advertising", Granted: true, Time: at}}, at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeginUploadRequest(ctx, &store.UploadRequest{Platform: "meta", Method: "POST", URL: "https://x.example/",
		Body: []byte("{}"), Attempt: 1, SentAt: at}, nil); err != nil {
		t.Fatal(err)
	}
	// 400 days after at, to the millisecond: both still kept.
	p, err := batch.PruneHistory(ctx, db, 400, 400, at.AddDate(0, 0, 400))
	if err != nil || p.Ledger.Requests != 0 || p.Consents.Visitors != 0 {
		t.Fatalf("at the limit: %+v %v, want nothing pruned", p, err)
	}
	p, err = batch.PruneHistory(ctx, db, 400, 401, at.AddDate(0, 0, 400).Add(time.Millisecond))
	if err != nil || p.Ledger.Requests != 1 || p.Consents.Visitors != 0 {
		t.Fatalf("past the ledger limit: %+v %v, want the request pruned only", p, err)
	}
	p, err = batch.PruneHistory(ctx, db, 400, 401, at.AddDate(0, 0, 402))
	if err != nil || p.Ledger.Requests != 0 || p.Consents.Visitors != 1 || p.Consents.Records != 1 {
		t.Fatalf("past the consent limit: %+v %v", p, err)
	}
}
