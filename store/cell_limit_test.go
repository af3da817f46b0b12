package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// TestIntakeCells checks the facts intake.max_cells_per_day is judged on:
// whether a cell holds events and how many cells its day holds, counting
// the cells opened earlier in the same transaction and, in a later one,
// those in cell_counts.
func TestIntakeCells(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	day, next := tally.Day("2026-11-20"), tally.Day("2026-11-21")
	cell := func(d tally.Day, campaign string) tally.Cell {
		return tally.Cell{Day: d, Platform: "meta", Campaign: campaign, Conversion: "booking"}
	}
	n := 0
	cells := func(tx *store.IntakeTx, cs ...tally.Cell) string {
		t.Helper()
		var out []string
		for _, c := range cs {
			exists, onDay, err := tx.Cells(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s:%v/%d", c.Campaign, exists, onDay))
		}
		return fmt.Sprint(out)
	}
	insert := func(tx *store.IntakeTx, c tally.Cell) {
		t.Helper()
		n++
		if open, err := tx.DayOpen(ctx, c.Day); err != nil || !open {
			t.Fatalf("day %s: open %v, %v", c.Day, open, err)
		}
		if ok, err := tx.InsertEvent(ctx, c, fmt.Appendf(nil, "e%d", n)); err != nil || !ok {
			t.Fatalf("insert: %v %v", ok, err)
		}
	}
	err := db.WriteIntake(ctx, func(tx *store.IntakeTx) error {
		if got := cells(tx, cell(day, "a")); got != "[a:false/0]" {
			t.Errorf("empty day: %s", got)
		}
		insert(tx, cell(day, "a"))
		if got := cells(tx, cell(day, "a"), cell(day, "b")); got != "[a:true/0 b:false/1]" {
			t.Errorf("after opening a: %s", got)
		}
		insert(tx, cell(day, "b"))
		insert(tx, cell(day, "a"))
		if got := cells(tx, cell(day, "c"), cell(next, "c")); got != "[c:false/2 c:false/0]" {
			t.Errorf("after opening b: %s", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A later transaction counts the day's cells from cell_counts.
	err = db.WriteIntake(ctx, func(tx *store.IntakeTx) error {
		if got := cells(tx, cell(day, "c"), cell(day, "b")); got != "[c:false/2 b:true/0]" {
			t.Errorf("later transaction: %s", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
