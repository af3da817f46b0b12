package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tally-health/tally"
)

// ReportCell is one sealed cell as a report may show it. It carries no
// raw, held or suppressed count: the query reads released_count only for
// released cells, and of carried_in only whether there was one.
type ReportCell struct {
	tally.Cell
	Status tally.Status
	// Released is the released count; 0 unless Status is released.
	Released int64
	// CarryAge is, when the cell holds a count carried in, how many days
	// back the carry began (the count came from Day-CarryAge to Day-1);
	// 0 when nothing was carried in.
	CarryAge int
	// MinCount is the release threshold in force when the day was sealed.
	MinCount int
	// Delivery is the cell's upload state on its platform when Queued;
	// a cell has no uploads row when it was not released, is not queued
	// yet, or its platform has no uploader.
	Delivery tally.State
	Queued   bool
}

// ReportCells returns the cells of the sealed days from..to (inclusive)
// in (day, platform, campaign, conversion) order, with their upload state.
func (db *DB) ReportCells(ctx context.Context, from, to tally.Day) ([]ReportCell, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, c *ReportCell) error {
		var state sql.NullString
		if err := rows.Scan(&c.Day, &c.Platform, &c.Campaign, &c.Conversion, &c.Status, &c.Released, &c.CarryAge, &c.MinCount, &state); err != nil {
			return err
		}
		if c.Queued = state.Valid; c.Queued {
			return c.Delivery.Scan(state.String)
		}
		return nil
	}, `SELECT d.day, d.platform, d.campaign, d.conversion, d.status,
			CASE WHEN d.status = 'released' THEN d.released_count ELSE 0 END,
			CASE WHEN d.carried_in > 0 THEN d.carry_age ELSE 0 END,
			d.gate_min_count, u.state
		FROM daily_counts d
		LEFT JOIN uploads u USING (day, platform, campaign, conversion)
		WHERE d.day BETWEEN ? AND ?
		ORDER BY d.day, d.platform, d.campaign, d.conversion`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: report cells %s..%s: %w", from, to, err)
	}
	return out, nil
}

// GateSpan is one set of release gate parameters and the first and last
// sealed day (with cells) it was in force on.
type GateSpan struct {
	tally.GateParams
	From, To tally.Day
}

// ReportGates returns the gate parameters recorded for the days from..to,
// one span per distinct set, in order of first day.
func (db *DB) ReportGates(ctx context.Context, from, to tally.Day) ([]GateSpan, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, g *GateSpan) error {
		return rows.Scan(&g.MinCount, &g.SmallCounts, &g.CarryDays, &g.Noise, &g.Epsilon, &g.From, &g.To)
	}, `SELECT gate_min_count, gate_small_counts, gate_carry_days, gate_noise, gate_epsilon, min(day), max(day)
		FROM daily_counts WHERE day BETWEEN ? AND ?
		GROUP BY gate_min_count, gate_small_counts, gate_carry_days, gate_noise, gate_epsilon
		ORDER BY min(day)`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: report gates %s..%s: %w", from, to, err)
	}
	return out, nil
}

// SealedDaysBetween counts the sealed days from..to (inclusive).
func (db *DB) SealedDaysBetween(ctx context.Context, from, to tally.Day) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM days WHERE sealed_at IS NOT NULL AND day BETWEEN ? AND ?`,
		from, to).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: sealed days %s..%s: %w", from, to, err)
	}
	return n, nil
}
