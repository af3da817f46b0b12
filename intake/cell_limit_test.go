package intake

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
)

// TestCellLimit checks intake.max_cells_per_day: an event that would open
// a cell beyond the limit on its day is dropped as cell_limit, within one
// transaction and across transactions, while events in the day's existing
// cells and on other days are still accepted.
func TestCellLimit(t *testing.T) {
	var visitors []string
	for i := range 10 {
		visitors = append(visitors, fmt.Sprint(i))
	}
	r := newStoreRig(t, Rules{ConsentPurpose: "advertising", MaxConsentAge: time.Hour, MaxCellsPerDay: 2}, visitors...)
	ev := func(visitor int, day tally.Day, campaign string) Candidate {
		r.n++
		return r.event(fmt.Sprint(r.n), fmt.Sprint(visitor), tally.Cell{Day: day, Platform: "meta", Campaign: campaign, Conversion: "booking"})
	}
	day, next := tally.Day("2026-11-20"), tally.Day("2026-11-21")
	got := r.decideAll(t, ev(0, day, "a"), ev(1, day, "b"), ev(2, day, "c"), ev(3, day, "a"), ev(4, day, "c"))
	want := []string{"accepted/", "accepted/", "dropped/cell_limit", "accepted/", "dropped/cell_limit"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("one transaction: %v, want %v", got, want)
	}
	// A later transaction counts the day's cells from cell_counts.
	got = r.decideAll(t, ev(5, day, "d"), ev(6, day, "b"), ev(7, next, "d"), ev(8, next, "e"), ev(9, next, "f"))
	want = []string{"dropped/cell_limit", "accepted/", "accepted/", "accepted/", "dropped/cell_limit"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("later transaction: %v, want %v", got, want)
	}
	var cells int
	if err := sqlfile.Open(t, r.db.Path).QueryRowContext(context.Background(), `SELECT count(*) FROM cell_counts WHERE day = ?`, day).Scan(&cells); err != nil {
		t.Fatal(err)
	}
	if cells != 2 {
		t.Errorf("cell_counts of %s: %d cells, want 2", day, cells)
	}
}
