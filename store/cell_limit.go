package store

import (
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
	max   int
	days  map[tally.Day]int
	cells map[tally.Cell]int8
}

func newCellLimit(max int) cellLimit {
	return cellLimit{max: max, days: map[tally.Day]int{}, cells: map[tally.Cell]int8{}}
}

// cellLimited reports whether ev would open a new cell on a day that already
// holds max cells. It reads cell_counts at most once per day and once per
// cell in a transaction.
func (w *intakeTx) cellLimited(ev *NewEvent) (bool, error) {
	l := &w.limit
	if l.max <= 0 || l.cells[ev.Cell] == cellPresent {
		return false, nil
	}
	n, ok := l.days[ev.Day]
	if !ok {
		if err := w.tx.QueryRowContext(w.ctx, `SELECT count(*) FROM cell_counts WHERE day = ?`, ev.Day).Scan(&n); err != nil {
			return false, fmt.Errorf("store: intake: count cells of %s: %w", ev.Day, err)
		}
		l.days[ev.Day] = n
	}
	if l.cells[ev.Cell] == 0 {
		var exists bool
		if err := w.tx.QueryRowContext(w.ctx, `SELECT EXISTS (SELECT 1 FROM cell_counts
			WHERE day = ? AND platform = ? AND campaign = ? AND conversion = ?)`,
			ev.Day, ev.Platform, ev.Campaign, ev.Conversion).Scan(&exists); err != nil {
			return false, fmt.Errorf("store: intake: find cell: %w", err)
		}
		l.cells[ev.Cell] = cellAbsent
		if exists {
			l.cells[ev.Cell] = cellPresent
			return false, nil
		}
	}
	return n >= l.max, nil
}

// opened records that an accepted event may have opened its cell.
func (l *cellLimit) opened(c tally.Cell) {
	if l.max > 0 && l.cells[c] == cellAbsent {
		l.cells[c] = cellPresent
		l.days[c.Day]++
	}
}
