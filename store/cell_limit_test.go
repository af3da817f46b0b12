package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/store/storetest"
)

// TestCellLimit checks intake.max_cells_per_day in the writer: an event
// that would open a cell beyond the limit on its day is dropped as
// cell_limit, within one transaction and across transactions, while events
// in the day's existing cells and on other days are still accepted.
func TestCellLimit(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	rule := store.ConsentRule{Purpose: "advertising", MaxAge: time.Hour, MaxCellsPerDay: 2}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var grants []store.Consent
	for i := 0; i < 10; i++ {
		grants = append(grants, store.Consent{VisitorKey: []byte(fmt.Sprintf("v-%d", i)), Purpose: "advertising", Granted: true, Time: t0})
	}
	if err := db.AddConsents(ctx, grants, t0); err != nil {
		t.Fatal(err)
	}
	n := 0
	ev := func(visitor int, day tally.Day, campaign string) *store.NewEvent {
		n++
		return &store.NewEvent{Cell: tally.Cell{Day: day, Platform: "meta", Campaign: campaign, Conversion: "booking"},
			DedupKey: []byte(fmt.Sprintf("id-%d", n)), VisitorKey: []byte(fmt.Sprintf("v-%d", visitor)), At: t0.Add(time.Minute)}
	}
	write := func(evs ...*store.NewEvent) []string {
		t.Helper()
		if err := db.WriteIntake(ctx, rule, []*store.IntakeWrite{{Events: evs}}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.Outcome.String()+"/"+e.Reason.String())
		}
		return out
	}
	day, next := tally.Day("2026-11-20"), tally.Day("2026-11-21")
	got := write(ev(0, day, "a"), ev(1, day, "b"), ev(2, day, "c"), ev(3, day, "a"), ev(4, day, "c"))
	want := []string{"accepted/", "accepted/", "dropped/cell_limit", "accepted/", "dropped/cell_limit"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("one transaction: %v, want %v", got, want)
	}
	// A later transaction counts the day's cells from cell_counts.
	got = write(ev(5, day, "d"), ev(6, day, "b"), ev(7, next, "d"), ev(8, next, "e"), ev(9, next, "f"))
	want = []string{"dropped/cell_limit", "accepted/", "accepted/", "accepted/", "dropped/cell_limit"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("later transaction: %v, want %v", got, want)
	}
	counts, err := db.OutcomeCounts(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if k := (store.OutcomeKey{Day: day, Outcome: tally.Dropped, Reason: tally.ReasonCellLimit}); counts[k] != 3 {
		t.Errorf("intake_outcomes %v = %d, want 3", k, counts[k])
	}
	var cells int
	if err := db.R.QueryRowContext(ctx, `SELECT count(*) FROM cell_counts WHERE day = ?`, day).Scan(&cells); err != nil {
		t.Fatal(err)
	}
	if cells != 2 {
		t.Errorf("cell_counts of %s: %d cells, want 2", day, cells)
	}
}
