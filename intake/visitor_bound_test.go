package intake

import (
	"context"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// TestVisitorDailyBound: with privacy.max_cells_per_visitor_day = 1 (the
// default) a visitor converting in two campaigns on one day counts in the
// first only; with 2 in both. A duplicate does not use up a cell, another
// day starts afresh, and the seal leaves nothing of it in the file.
func TestVisitorDailyBound(t *testing.T) {
	day := tally.Day("2026-11-20")
	c1 := tally.Cell{Day: day, Platform: "meta", Campaign: "c1", Conversion: "booking"}
	c2, c3 := c1, c1
	c2.Campaign, c3.Campaign = "c2", "c3"
	for _, tt := range []struct {
		max  int
		want []string
	}{
		{1, []string{"accepted/", "duplicate/", "dropped/over_bound", "dropped/over_bound", "accepted/"}},
		{2, []string{"accepted/", "duplicate/", "accepted/", "dropped/over_bound", "accepted/"}},
	} {
		r := newStoreRig(t, Rules{ConsentPurpose: "advertising", MaxConsentAge: time.Hour, MaxCellsPerVisitorDay: tt.max}, "a", "b")
		got := r.decideAll(t,
			r.event("1", "a", c1), // accepted
			r.event("1", "a", c2), // the same event id in another cell: a duplicate, which uses up nothing
			r.event("2", "a", c2), // a's second cell of the day
			r.event("3", "a", c3), // a's third cell of the day
			r.event("4", "b", c2), // b is not a
		)
		for i := range tt.want {
			if i >= len(got) || got[i] != tt.want[i] {
				t.Errorf("max %d, event %d: %v, want %v", tt.max, i, got, tt.want)
				break
			}
		}
		next := c2
		next.Day = day.Add(1)
		if got := r.decideAll(t, r.event("5", "a", next)); got[0] != "accepted/" {
			t.Errorf("max %d: a on the next day: %s, want accepted/", tt.max, got[0])
		}

		// Sealed: the day's salt and every key of it are gone from the file.
		ctx := context.Background()
		none := func(context.Context, store.SealInput) ([]store.DailyCount, error) { return nil, nil }
		if _, err := r.db.SealDay(ctx, day, r.t0.Add(48*time.Hour), nil, none); err != nil {
			t.Fatal(err)
		}
		raw := sqlfile.Open(t, r.db.Path)
		var tables, salts int
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = ?`, "contrib_20261120").Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM days WHERE day = ? AND salt IS NOT NULL`, day).Scan(&salts); err != nil {
			t.Fatal(err)
		}
		if tables != 0 || salts != 0 {
			t.Errorf("max %d: after the seal %d contribution tables and %d salts of the day remain", tt.max, tables, salts)
		}
	}
}
