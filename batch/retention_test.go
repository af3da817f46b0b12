package batch_test

import (
	"context"
	"testing"
	"time"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store/storetest"
)

func TestPurgeRetention(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	for _, d := range []string{"2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"} {
		addEvents(t, db, d, "meta", "c", "booking", 2)
	}
	// 2026-11-27 stays open: its events are never purged, however old.
	if _, err := roller(db, gate(1, "carry", 7), "2026-11-27T03:00:00Z").RollupDue(ctx); err != nil {
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
	db.R.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&left)
	if left != 2 {
		t.Errorf("%d events left, want the open day's 2", left)
	}
}
