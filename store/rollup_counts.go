package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tally-health/tally"
)

const dailyCountCols = `day, platform, campaign, conversion, raw_count, carried_in, noise, total,
	released_count, status, carry_age, gate_min_count, gate_small_counts, gate_carry_days,
	gate_noise, gate_epsilon, sealed_at`

func insertDailyCounts(ctx context.Context, tx *sql.Tx, rows []DailyCount) error {
	if len(rows) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO daily_counts (`+dailyCountCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare daily_counts: %w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		g := r.Gate
		if _, err := stmt.ExecContext(ctx, r.Day, r.Platform, r.Campaign, r.Conversion, r.RawCount, r.CarriedIn,
			r.Noise, r.Total, r.ReleasedCount, r.Status, r.CarryAge, g.MinCount, g.SmallCounts, g.CarryDays,
			g.Noise, g.Epsilon.Float64(), r.SealedAt); err != nil {
			return fmt.Errorf("insert daily_counts %s/%s/%s: %w", r.Platform, r.Campaign, r.Conversion, err)
		}
	}
	return nil
}

// queryDailyCounts reads rows matching where (a WHERE clause with its
// arguments) in (day, platform, campaign, conversion) order.
func queryDailyCounts(ctx context.Context, q querier, where string, args ...any) ([]DailyCount, error) {
	return queryAll(ctx, q, func(rows *sql.Rows, r *DailyCount) error {
		g := &r.Gate
		var eps float64
		if err := rows.Scan(&r.Day, &r.Platform, &r.Campaign, &r.Conversion, &r.RawCount, &r.CarriedIn,
			&r.Noise, &r.Total, &r.ReleasedCount, &r.Status, &r.CarryAge, &g.MinCount, &g.SmallCounts,
			&g.CarryDays, &g.Noise, &eps, &r.SealedAt); err != nil {
			return err
		}
		g.Epsilon = gateEpsilon(eps)
		return nil
	}, `SELECT `+dailyCountCols+` FROM daily_counts `+where+`
		ORDER BY day, platform, campaign, conversion`, args...)
}

// DailyCounts returns the daily_counts rows of the days from..to
// (inclusive, YYYY-MM-DD) in (day, platform, campaign, conversion) order.
func (db *DB) DailyCounts(ctx context.Context, from, to tally.Day) ([]DailyCount, error) {
	out, err := queryDailyCounts(ctx, db.r, `WHERE day BETWEEN ? AND ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: daily counts %s..%s: %w", from, to, err)
	}
	return out, nil
}

// DayState is one row of days: a day that has seen an event or was sealed.
type DayState struct {
	Day      tally.Day
	SealedAt string // "" while the day is open
}

// Days returns every known day in order.
func (db *DB) Days(ctx context.Context) ([]DayState, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, d *DayState) error {
		return rows.Scan(&d.Day, &d.SealedAt)
	}, `SELECT day, coalesce(sealed_at, '') FROM days ORDER BY day`)
	if err != nil {
		return nil, fmt.Errorf("store: days: %w", err)
	}
	return out, nil
}

// LastSealedDays returns the first and last of the n most recent sealed
// days; ok is false when no day is sealed.
func (db *DB) LastSealedDays(ctx context.Context, n int) (from, to tally.Day, ok bool, err error) {
	var f, t sql.NullString
	err = db.r.QueryRowContext(ctx, `SELECT min(day), max(day) FROM (SELECT day FROM days
		WHERE sealed_at IS NOT NULL ORDER BY day DESC LIMIT ?)`, n).Scan(&f, &t)
	if err != nil {
		return "", "", false, fmt.Errorf("store: last sealed days: %w", err)
	}
	return tally.Day(f.String), tally.Day(t.String), f.Valid, nil
}

// gateEpsilon is a gate_epsilon value read back. The column holds the
// nearest float to a decimal of at most six places, whose shortest text is
// that decimal again. A row sealed before epsilon was exact may hold a
// finer value: it reads as the zero Epsilon (not Valid), and the column
// keeps the record.
func gateEpsilon(f float64) tally.Epsilon {
	e, _ := tally.EpsilonOf(f)
	return e
}
