package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tally-health/tally"
)

// ReportCell is one sealed cell as a report may show it. It carries no
// raw, held or suppressed count: the query reads released_count only of
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
}

// ReportCells calls fn with each cell of the sealed days from..to
// (inclusive) in (day, platform, campaign, conversion) order. It reads
// them in one pass in index order, without a sort: a year of 200
// campaigns is 150,000 cells.
func (db *DB) ReportCells(ctx context.Context, from, to tally.Day, fn func(ReportCell)) error {
	rows, err := db.r.QueryContext(ctx, `SELECT day, platform, campaign, conversion, status,
			CASE WHEN status = 'released' THEN released_count ELSE 0 END,
			CASE WHEN carried_in > 0 THEN carry_age ELSE 0 END, gate_min_count
		FROM daily_counts WHERE day BETWEEN ? AND ?
		ORDER BY day, platform, campaign, conversion`, from, to)
	if err != nil {
		return fmt.Errorf("store: report cells %s..%s: %w", from, to, err)
	}
	defer rows.Close()
	var c ReportCell
	var status string
	for rows.Next() {
		if err := rows.Scan(&c.Day, &c.Platform, &c.Campaign, &c.Conversion, &status, &c.Released, &c.CarryAge, &c.MinCount); err != nil {
			return fmt.Errorf("store: report cells %s..%s: %w", from, to, err)
		}
		// The status column is CHECKed by the schema; released is what
		// matters here, so the comparison spares a parse per row.
		c.Status = tally.Held
		if status == tally.Released.String() {
			c.Status = tally.Released
		} else if status == tally.Suppressed.String() {
			c.Status = tally.Suppressed
		}
		fn(c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: report cells %s..%s: %w", from, to, err)
	}
	return nil
}

// ReportDelivery is the conversions of one platform's uploads rows in
// one state.
type ReportDelivery struct {
	Platform    tally.Platform
	State       tally.State
	Conversions int64
}

// ReportDeliveries sums the uploads rows of from..to of each platform in
// each state (a row's count is its cell's released count). One indexed
// lookup per pair: grouping a year's rows by platform and state sorted
// them all.
func (db *DB) ReportDeliveries(ctx context.Context, from, to tally.Day, platforms []tally.Platform, states []tally.State) ([]ReportDelivery, error) {
	stmt, err := db.r.PrepareContext(ctx, `SELECT coalesce(sum(count), 0) FROM uploads
		WHERE platform = ? AND state = ? AND day BETWEEN ? AND ?`)
	if err != nil {
		return nil, fmt.Errorf("store: report deliveries: %w", err)
	}
	defer stmt.Close()
	var out []ReportDelivery
	for _, p := range platforms {
		for _, s := range states {
			d := ReportDelivery{Platform: p, State: s}
			if err := stmt.QueryRowContext(ctx, p, s, from, to).Scan(&d.Conversions); err != nil {
				return nil, fmt.Errorf("store: report deliveries %s %s: %w", p, s, err)
			}
			if d.Conversions > 0 {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// DayGate is the release gate parameters one sealed day was sealed with.
type DayGate struct {
	Day tally.Day
	tally.GateParams
}

// ReportGates returns the gate parameters of each sealed day of from..to
// that has cells, in day order. A day is sealed by one gate, so its
// first cell's parameters are the day's: one index seek a day rather
// than a pass over every cell.
func (db *DB) ReportGates(ctx context.Context, from, to tally.Day) ([]DayGate, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, g *DayGate) error {
		var eps float64
		err := rows.Scan(&g.Day, &g.MinCount, &g.SmallCounts, &g.CarryDays, &g.Noise, &eps)
		g.Epsilon = gateEpsilon(eps)
		return err
	}, `SELECT c.day, c.gate_min_count, c.gate_small_counts, c.gate_carry_days, c.gate_noise, c.gate_epsilon
		FROM days d JOIN daily_counts c
			ON c.rowid = (SELECT rowid FROM daily_counts WHERE day = d.day LIMIT 1)
		WHERE d.day BETWEEN ? AND ? AND d.sealed_at IS NOT NULL ORDER BY d.day`, from, to)
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
