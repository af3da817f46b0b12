package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tally-health/tally"
)

// UncertainRange is one open upload_uncertain row: conversions
// [First, First+N) of a cell went out in request RequestID, whose outcome
// is unknown.
type UncertainRange struct {
	ID        int64
	RequestID int64
	tally.Cell
	First, N int
}

// OpenUncertain returns platform's uncertain ranges not yet resent (only
// day when day is not empty), oldest request first.
func (db *DB) OpenUncertain(ctx context.Context, platform tally.Platform, day tally.Day) ([]UncertainRange, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, r *UncertainRange) error {
		return rows.Scan(&r.ID, &r.RequestID, &r.Day, &r.Platform, &r.Campaign, &r.Conversion, &r.First, &r.N)
	}, `SELECT id, request_id, day, platform, campaign, conversion, first_index, n
		FROM upload_uncertain
		WHERE resent_by IS NULL AND platform = ? AND (? = '' OR day = ?)
		ORDER BY request_id, id`, platform, day, day)
	if err != nil {
		return nil, fmt.Errorf("store: open uncertain: %w", err)
	}
	return out, nil
}

// Upload returns the uploads row of cell, or nil when it has none.
func (db *DB) Upload(ctx context.Context, c tally.Cell) (*Upload, error) {
	ups, err := db.queryUploads(ctx, `WHERE day = ? AND platform = ? AND campaign = ? AND conversion = ?`,
		c.Day, c.Platform, c.Campaign, c.Conversion)
	if err != nil {
		return nil, fmt.Errorf("store: upload %s/%s/%s/%s: %w", c.Day, c.Platform, c.Campaign, c.Conversion, err)
	}
	if len(ups) == 0 {
		return nil, nil
	}
	return ups[0], nil
}

// UncertainTotal is how many of platform's conversions (only day when day
// is not empty) have an unknown outcome.
func (db *DB) UncertainTotal(ctx context.Context, platform tally.Platform, day tally.Day) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(sum(uncertain), 0) FROM uploads
		WHERE platform = ? AND (? = '' OR day = ?)`, platform, day, day).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: uncertain total: %w", err)
	}
	return n, nil
}

// UncertainCounts returns, per cell of the days from..to that has any, how
// many conversions have an unknown outcome (for the export).
func (db *DB) UncertainCounts(ctx context.Context, from, to tally.Day) (map[tally.Cell]int, error) {
	out, err := cellValues[int](ctx, db.r, `SELECT day, platform, campaign, conversion, uncertain FROM uploads
		WHERE uncertain > 0 AND day BETWEEN ? AND ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: uncertain counts %s..%s: %w", from, to, err)
	}
	return out, nil
}

// recordUncertain opens an upload_uncertain row for every part of request
// id when its outcome is unknown, and closes the rows the request resent
// (settles) once it has an answer that decides them.
func recordUncertain(ctx context.Context, tx *sql.Tx, id int64, resp *UploadResponse) error {
	for _, rid := range resp.Settles {
		if _, err := tx.ExecContext(ctx, `UPDATE upload_uncertain SET resent_by = ? WHERE id = ? AND resent_by IS NULL`,
			id, rid); err != nil {
			return fmt.Errorf("store: settle uncertain %d: %w", rid, err)
		}
	}
	if !resp.Unknown {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO upload_uncertain (request_id, day, platform, campaign, conversion, first_index, n)
		SELECT request_id, day, platform, campaign, conversion, first_index, n FROM upload_request_cells
		WHERE request_id = ? ORDER BY rowid`, id); err != nil {
		return fmt.Errorf("store: record uncertain request %d: %w", id, err)
	}
	return nil
}
