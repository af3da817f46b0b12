package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tally-health/tally"
)

// A report reads sums of daily_counts, never its rows: each query below
// reads released_count only of released cells, and of the others only
// how many there were and the threshold they fell below, so no raw, held
// or suppressed count can reach a report.

// ReportSum sums the sealed cells of one platform and campaign that share
// a key: a period's first day (ReportSeries) or a conversion name
// (ReportKinds).
type ReportSum struct {
	Key      string
	Platform tally.Platform
	Campaign string
	// Released is the sum of the released counts.
	Released int64
	// Withheld is how many cells were held or suppressed; K the highest
	// threshold among them (at least 1: zero is never released).
	Withheld int
	K        int
	// CarriedFrom and CarriedTo bound the days whose counts were carried
	// into a released cell; empty when none was.
	CarriedFrom, CarriedTo tally.Day
}

// reportSums is the select list of a ReportSum after its key.
const reportSums = `platform, campaign,
	sum(CASE WHEN status = 'released' THEN released_count ELSE 0 END),
	sum(status <> 'released'),
	coalesce(max(CASE WHEN status <> 'released' THEN max(gate_min_count, 1) END), 0),
	coalesce(min(CASE WHEN status = 'released' AND carried_in > 0 THEN date(day, '-' || carry_age || ' days') END), ''),
	coalesce(max(CASE WHEN status = 'released' AND carried_in > 0 THEN date(day, '-1 days') END), '')`

func scanReportSum(rows *sql.Rows, s *ReportSum) error {
	return rows.Scan(&s.Key, &s.Platform, &s.Campaign, &s.Released, &s.Withheld, &s.K, &s.CarriedFrom, &s.CarriedTo)
}

// periodStart is the SQL for the first day of day's period, as
// tally.Group.Start computes it (TestPeriodStartMatchesGroupStart).
func periodStart(g tally.Group) string {
	switch g {
	case tally.GroupWeek:
		// Back six days, then on to the next Monday (the day itself when
		// it is one): the Monday of day's ISO week.
		return `date(day, '-6 days', 'weekday 1')`
	case tally.GroupMonth:
		return `substr(day, 1, 8) || '01'`
	}
	return `day`
}

// ReportSeries sums the sealed cells of from..to (inclusive) per period
// of g, platform and campaign, in that order; Key is the period's first
// day.
func (db *DB) ReportSeries(ctx context.Context, from, to tally.Day, g tally.Group) ([]ReportSum, error) {
	out, err := queryAll(ctx, db.r, scanReportSum, `SELECT `+periodStart(g)+`, `+reportSums+`
		FROM daily_counts WHERE day BETWEEN ? AND ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: report series %s..%s: %w", from, to, err)
	}
	return out, nil
}

// ReportKinds sums the sealed cells of from..to per platform, campaign
// and conversion; Key is the conversion.
func (db *DB) ReportKinds(ctx context.Context, from, to tally.Day) ([]ReportSum, error) {
	out, err := queryAll(ctx, db.r, scanReportSum, `SELECT conversion, `+reportSums+`
		FROM daily_counts WHERE day BETWEEN ? AND ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: report kinds %s..%s: %w", from, to, err)
	}
	return out, nil
}

// ReportDelivery is the released conversions of one platform in one
// upload state.
type ReportDelivery struct {
	Platform tally.Platform
	// State is the upload state when Queued; a released cell has no
	// uploads row while it waits for its first upload, or when its
	// platform has no uploader.
	State    tally.State
	Queued   bool
	Released int64
}

// ReportDeliveries sums the released counts of from..to per platform and
// upload state.
func (db *DB) ReportDeliveries(ctx context.Context, from, to tally.Day) ([]ReportDelivery, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, d *ReportDelivery) error {
		var state sql.NullString
		if err := rows.Scan(&d.Platform, &state, &d.Released); err != nil {
			return err
		}
		if d.Queued = state.Valid; d.Queued {
			return d.State.Scan(state.String)
		}
		return nil
	}, `SELECT d.platform, u.state, sum(d.released_count)
		FROM daily_counts d LEFT JOIN uploads u USING (day, platform, campaign, conversion)
		WHERE d.day BETWEEN ? AND ? AND d.status = 'released'
		GROUP BY 1, 2 ORDER BY 1, 2`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: report deliveries %s..%s: %w", from, to, err)
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
