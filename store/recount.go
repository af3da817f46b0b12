package store

import (
	"context"
	"fmt"

	"github.com/tally-health/tally"
)

// Recount compares one cell's stored raw_count with a fresh count of its events.
type Recount struct {
	tally.Cell
	Stored, Counted int64
}

// RecountDay recomputes a sealed day's raw counts from events and returns
// every cell of daily_counts or events, with both numbers. purged reports
// that the day's events were deleted past retention (nothing to compare).
func (db *DB) RecountDay(ctx context.Context, day tally.Day) (cells []Recount, sealed, purged bool, err error) {
	var sealedAt *string
	if err := db.r.QueryRowContext(ctx, `SELECT sealed_at FROM days WHERE day = ?`, day).Scan(&sealedAt); err == nil {
		sealed = sealedAt != nil
	}
	if !sealed {
		return nil, false, false, nil
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM purges WHERE day = ?`, day).Scan(&n); err != nil {
		return nil, true, false, fmt.Errorf("store: recount %s: %w", day, err)
	}
	if n > 0 {
		return nil, true, true, nil
	}
	byCell := map[tally.Cell]*Recount{}
	var order []tally.Cell
	get := func(c tally.Cell) *Recount {
		if r, ok := byCell[c]; ok {
			return r
		}
		r := &Recount{Cell: c}
		byCell[c] = r
		order = append(order, c)
		return r
	}
	rows, err := db.r.QueryContext(ctx, `SELECT platform, campaign, conversion, raw_count FROM daily_counts
		WHERE day = ? ORDER BY platform, campaign, conversion`, day)
	if err != nil {
		return nil, true, false, fmt.Errorf("store: recount %s: %w", day, err)
	}
	defer rows.Close()
	for rows.Next() {
		c := tally.Cell{Day: day}
		var stored int64
		if err := rows.Scan(&c.Platform, &c.Campaign, &c.Conversion, &stored); err != nil {
			return nil, true, false, fmt.Errorf("store: recount %s: %w", day, err)
		}
		get(c).Stored = stored
	}
	if err := rows.Err(); err != nil {
		return nil, true, false, fmt.Errorf("store: recount %s: %w", day, err)
	}
	counted, err := db.CellCounts(ctx, day)
	if err != nil {
		return nil, true, false, err
	}
	for _, cc := range counted {
		get(tally.Cell{Day: day, Platform: cc.Platform, Campaign: cc.Campaign, Conversion: cc.Conversion}).Counted = cc.Raw
	}
	for _, c := range order {
		cells = append(cells, *byCell[c])
	}
	return cells, true, false, nil
}
