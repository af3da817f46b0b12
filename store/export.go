package store

import (
	"context"
	"fmt"

	"github.com/tally-health/tally"
)

// UploadStates returns the delivery state of every uploads row of the
// days from..to (inclusive), by cell. A released cell without a row (its
// platform not enabled, or none) is absent.
func (db *DB) UploadStates(ctx context.Context, from, to tally.Day) (map[tally.Cell]tally.State, error) {
	out, err := cellValues[tally.State](ctx, db.r, `SELECT day, platform, campaign, conversion, state FROM uploads
		WHERE day BETWEEN ? AND ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: upload states %s..%s: %w", from, to, err)
	}
	return out, nil
}

// cellValues runs query, whose rows are (day, platform, campaign,
// conversion, value), and maps each cell to its value. The caller wraps
// the error with its operation.
func cellValues[T any](ctx context.Context, q querier, query string, args ...any) (map[tally.Cell]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[tally.Cell]T{}
	for rows.Next() {
		var c tally.Cell
		var v T
		if err := rows.Scan(&c.Day, &c.Platform, &c.Campaign, &c.Conversion, &v); err != nil {
			return nil, err
		}
		out[c] = v
	}
	return out, rows.Err()
}
