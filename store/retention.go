package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tally-health/tally"
)

// Purge is one day whose events were deleted past retention.
type Purge struct {
	Day    tally.Day
	Events int64
}

// PurgeEvents deletes the events of every sealed day before cutoff
// (YYYY-MM-DD, exclusive), one transaction per day, and records each day
// and its event count in purges. Open days are never purged: their events
// are still needed for the rollup. daily_counts is kept.
func (db *DB) PurgeEvents(ctx context.Context, cutoff string, now time.Time) ([]Purge, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT day FROM days WHERE day < ? AND sealed_at IS NOT NULL
		AND EXISTS (SELECT 1 FROM events WHERE events.day = days.day) ORDER BY day`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("store: purge: list days: %w", err)
	}
	var days []tally.Day
	for rows.Next() {
		var d tally.Day
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: purge: list days: %w", err)
		}
		days = append(days, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: purge: list days: %w", err)
	}
	var out []Purge
	for _, d := range days {
		n, err := db.purgeDay(ctx, d, now)
		if err != nil {
			return out, err
		}
		out = append(out, Purge{Day: d, Events: n})
	}
	return out, nil
}

func (db *DB) purgeDay(ctx context.Context, day tally.Day, now time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, fmt.Sprintf("store: purge %s", day), func(tx *sql.Tx) error {
		// Re-check inside the write transaction: only a sealed day is purged.
		r, err := tx.ExecContext(ctx, `DELETE FROM events WHERE day = ?
			AND EXISTS (SELECT 1 FROM days WHERE day = ? AND sealed_at IS NOT NULL)`, day, day)
		if err != nil {
			return fmt.Errorf("store: purge %s: delete: %w", day, err)
		}
		if n, _ = r.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO purges (day, events, purged_at) VALUES (?, ?, ?)`,
			day, n, FormatTime(now)); err != nil {
			return fmt.Errorf("store: purge %s: record: %w", day, err)
		}
		if err := db.appendAudit(ctx, tx, AuditPurge, map[string]any{"day": day, "events": n}); err != nil {
			return fmt.Errorf("store: purge %s: %w", day, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
