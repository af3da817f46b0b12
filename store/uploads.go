package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tally-health/tally"
)

// Upload is one uploads row: the delivery progress of one released cell to
// its platform. Conversions [0, Next) are resolved: Acked of them were
// acknowledged, Rejected were refused for good, and Uncertain went out in a
// request whose outcome is unknown (upload_uncertain says which).
type Upload struct {
	tally.Cell
	Count     int
	Next      int
	Acked     int
	Rejected  int
	Uncertain int
	State     tally.State
	Attempts  int
	LastError string
}

// Remaining is the number of conversions not yet resolved.
func (u *Upload) Remaining() int { return u.Count - u.Next }

// QueueUploads adds a pending uploads row for every released cell of
// platform that has none yet (only day when day is not empty). It returns
// how many rows it added.
func (db *DB) QueueUploads(ctx context.Context, platform tally.Platform, day tally.Day, now time.Time) (int, error) {
	ts := FormatTime(now)
	res, err := db.w.ExecContext(ctx, `INSERT INTO uploads (day, platform, campaign, conversion, count, created_at, updated_at)
		SELECT day, platform, campaign, conversion, released_count, ?, ?
		FROM daily_counts
		WHERE status = 'released' AND released_count > 0 AND platform = ? AND (? = '' OR day = ?)
		ORDER BY day, campaign, conversion
		ON CONFLICT DO NOTHING`, ts, ts, platform, day, day)
	if err != nil {
		return 0, fmt.Errorf("store: queue uploads: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: queue uploads: %w", err)
	}
	return int(n), nil
}

// UnfinishedUploads returns platform's uploads rows with conversions left to
// resolve, in (day, campaign, conversion) order: pending, failed and
// uncertain rows, and dry_run rows too unless dryRun (a dry run never
// repeats itself; a real run sends what a dry run only previewed).
func (db *DB) UnfinishedUploads(ctx context.Context, platform tally.Platform, day tally.Day, dryRun bool) ([]*Upload, error) {
	states := []any{tally.Pending, tally.Failed, tally.Uncertain, tally.DryRun}
	if dryRun {
		states[3] = "" // matches no row
	}
	out, err := db.queryUploads(ctx, `WHERE platform = ? AND (? = '' OR day = ?) AND next_index < count AND state IN (?, ?, ?, ?)`,
		append([]any{platform, day, day}, states...)...)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished uploads: %w", err)
	}
	return out, nil
}

// queryUploads returns the uploads rows matching where, in (day, campaign,
// conversion) order.
func (db *DB) queryUploads(ctx context.Context, where string, args ...any) ([]*Upload, error) {
	ups, err := queryAll(ctx, db.r, func(rows *sql.Rows, u *Upload) error {
		return rows.Scan(&u.Day, &u.Platform, &u.Campaign, &u.Conversion, &u.Count, &u.Next, &u.Acked,
			&u.Rejected, &u.Uncertain, &u.State, &u.Attempts, &u.LastError)
	}, `SELECT day, platform, campaign, conversion, count, next_index, acked, rejected,
		uncertain, state, attempts, last_error
		FROM uploads `+where+` ORDER BY day, campaign, conversion`, args...)
	out := make([]*Upload, len(ups))
	for i := range ups {
		out[i] = &ups[i]
	}
	return out, err
}

// SaveUploads writes the progress of each row (next_index, acked, rejected,
// uncertain, state, attempts, last_error) in one transaction.
func (db *DB) SaveUploads(ctx context.Context, ups []*Upload, now time.Time) error {
	return db.inTx(ctx, "store: save uploads", func(tx *sql.Tx) error {
		if err := db.checkFence(ctx, tx); err != nil {
			return err
		}
		return saveUploads(ctx, tx, ups, now)
	})
}

func saveUploads(ctx context.Context, tx *sql.Tx, ups []*Upload, now time.Time) error {
	ts := FormatTime(now)
	for _, u := range ups {
		_, err := tx.ExecContext(ctx, `UPDATE uploads SET next_index = ?, acked = ?, rejected = ?, uncertain = ?, state = ?,
			attempts = ?, last_error = ?, updated_at = ?
			WHERE day = ? AND platform = ? AND campaign = ? AND conversion = ?`,
			u.Next, u.Acked, u.Rejected, u.Uncertain, u.State, u.Attempts, u.LastError, ts, u.Day, u.Platform, u.Campaign, u.Conversion)
		if err != nil {
			return fmt.Errorf("store: save upload %s/%s/%s/%s: %w", u.Day, u.Platform, u.Campaign, u.Conversion, err)
		}
	}
	return nil
}
