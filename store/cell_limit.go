package store

import (
	"context"
	"fmt"

	"github.com/tally-health/tally"
)

// Cell states remembered for one transaction.
const (
	cellPresent int8 = 1 // in cell_counts, or accepted earlier in the transaction
	cellAbsent  int8 = 2 // in neither (yet)
)

// cellLimit tracks, within one intake transaction, how many cells each day
// holds: cell_counts' rows of the day plus the cells opened since.
type cellLimit struct {
	days  map[tally.Day]int
	cells map[tally.Cell]int8
}

func newCellLimit() cellLimit {
	return cellLimit{days: map[tally.Day]int{}, cells: map[tally.Cell]int8{}}
}

// Cells reports whether cell c already holds events (in cell_counts or
// accepted earlier in the transaction) and, when it does not, how many
// cells its day holds (intake.max_cells_per_day bounds that). It reads
// cell_counts at most once per day and once per cell in a transaction.
func (w *IntakeTx) Cells(ctx context.Context, c tally.Cell) (exists bool, onDay int, err error) {
	l := &w.limit
	if l.cells[c] == cellPresent {
		return true, 0, nil
	}
	n, ok := l.days[c.Day]
	if !ok {
		if err := w.tx.QueryRowContext(ctx, `SELECT count(*) FROM cell_counts WHERE day = ?`, c.Day).Scan(&n); err != nil {
			return false, 0, fmt.Errorf("store: intake: count cells of %s: %w", c.Day, err)
		}
		l.days[c.Day] = n
	}
	if l.cells[c] == 0 {
		if err := w.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM cell_counts
			WHERE day = ? AND platform = ? AND campaign = ? AND conversion = ?)`,
			c.Day, c.Platform, c.Campaign, c.Conversion).Scan(&exists); err != nil {
			return false, 0, fmt.Errorf("store: intake: find cell: %w", err)
		}
		l.cells[c] = cellAbsent
		if exists {
			l.cells[c] = cellPresent
			return true, 0, nil
		}
	}
	return false, n, nil
}

// opened records that an accepted event may have opened its cell. Only a
// cell Cells has seen absent is tracked: its day's count is loaded.
func (l *cellLimit) opened(c tally.Cell) {
	if l.cells[c] == cellAbsent {
		l.cells[c] = cellPresent
		l.days[c.Day]++
	}
}
