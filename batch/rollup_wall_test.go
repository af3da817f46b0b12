package batch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/storetest"
)

// TestRollupNeverSealsBeyondTheWallClock: a clock (--now) set days ahead
// seals only the days that have ended by the system clock; the rest stay
// open (today 2036 sealed every day up to it and purged every event).
func TestRollupNeverSealsBeyondTheWallClock(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	addEvents(t, db, "2026-11-18", "google", "c", "booking", 11)
	addEvents(t, db, "2026-11-19", "google", "c", "booking", 11)
	r := roller(db, gate(11, tally.Carry, 7), "2026-11-25T00:00:00Z")
	wall := time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC) // 2026-11-19 has not ended
	r.Wall = func() time.Time { return wall }
	if last := r.LastDue(); last != "2026-11-18" {
		t.Errorf("last due day %s, want 2026-11-18", last)
	}
	if _, err := r.RollupRange(ctx, "2026-11-19", "2026-11-19"); !errors.Is(err, batch.ErrNotDue) {
		t.Errorf("sealing a day not ended by the wall clock: %v, want ErrNotDue", err)
	}
	sealed, err := r.RollupDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 1 || sealed[0].Day != "2026-11-18" {
		t.Fatalf("sealed %d days, want only 2026-11-18: %+v", len(sealed), sealed)
	}
	days, err := db.Days(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		if d.Day >= "2026-11-19" && d.SealedAt != "" {
			t.Errorf("%s sealed before it ended by the wall clock", d.Day)
		}
	}
	// Once the wall clock has passed the day's end, it is due.
	wall = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if sealed, err := r.RollupDue(ctx); err != nil || len(sealed) != 1 || sealed[0].Day != "2026-11-19" {
		t.Errorf("after the day ended: %+v %v", sealed, err)
	}
}
