package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tally-health/tally"
)

// AuditRunEnd is the audit entry a run writes as it ends, while it still
// holds the lock: its status (RunOK, RunFailed, RunStopped), how long it
// took and the steps that failed. The batch job's metrics read the last
// ones.
const AuditRunEnd = "run_end"

// The statuses of a run_end entry.
const (
	RunOK      = "ok"
	RunFailed  = "failed"
	RunStopped = "stopped"
)

// RunEnd is one run_end audit entry.
type RunEnd struct {
	At     time.Time // wall clock at the end of the run
	Status string
	Took   time.Duration
}

// Delivery is one platform's conversions by delivery state. Every
// conversion of an uploads row is in exactly one of them.
type Delivery struct {
	Sent      int64 // acknowledged by the platform
	Failed    int64 // refused for good
	Uncertain int64 // sent in a request whose outcome is unknown (GA4)
	Expired   int64 // past the platform's window, never sent
	Pending   int64 // not sent yet; a later run sends them
	// OldestPending is the earliest day with pending conversions, "" when
	// none.
	OldestPending tally.Day
}

// JobStatus is what the batch job's metrics report.
type JobStatus struct {
	Cells      map[tally.Status]int64 // daily_counts rows by release status
	Deliveries map[tally.Platform]Delivery
	// LastRun and LastOK are the last run_end entry and the last with
	// status ok; nil when there is none.
	LastRun, LastOK *RunEnd
}

// JobStatus reads the batch job's state for its metrics.
func (db *DB) JobStatus(ctx context.Context) (JobStatus, error) {
	s := JobStatus{Cells: map[tally.Status]int64{}, Deliveries: map[tally.Platform]Delivery{}}
	type statusCount struct {
		status tally.Status
		n      int64
	}
	cells, err := queryAll(ctx, db.r, func(rows *sql.Rows, c *statusCount) error { return rows.Scan(&c.status, &c.n) },
		`SELECT status, count(*) FROM daily_counts GROUP BY status`)
	if err != nil {
		return s, fmt.Errorf("store: job status: cells: %w", err)
	}
	for _, c := range cells {
		s.Cells[c.status] = c.n
	}
	type platformDelivery struct {
		p tally.Platform
		d Delivery
	}
	// count = acked + rejected + uncertain + (count - next_index): the
	// unresolved rest is expired in an expired row, pending in any other.
	deliveries, err := queryAll(ctx, db.r, func(rows *sql.Rows, r *platformDelivery) error {
		return rows.Scan(&r.p, &r.d.Sent, &r.d.Failed, &r.d.Uncertain, &r.d.Expired, &r.d.Pending, &r.d.OldestPending)
	}, `SELECT platform, sum(acked), sum(rejected), sum(uncertain),
		sum(CASE WHEN state = 'expired' THEN count - next_index ELSE 0 END),
		sum(CASE WHEN state <> 'expired' THEN count - next_index ELSE 0 END),
		coalesce(min(CASE WHEN state <> 'expired' AND count > next_index THEN day END), '')
		FROM uploads GROUP BY platform`)
	if err != nil {
		return s, fmt.Errorf("store: job status: uploads: %w", err)
	}
	for _, r := range deliveries {
		s.Deliveries[r.p] = r.d
	}
	if s.LastRun, err = db.lastRunEnd(ctx, ""); err != nil {
		return s, err
	}
	if s.LastOK, err = db.lastRunEnd(ctx, RunOK); err != nil {
		return s, err
	}
	return s, nil
}

// lastRunEnd reads the last run_end entry, only those with status when
// given; nil when there is none. Last is the last written (highest id),
// not the latest at: at is the wall clock, which can be set back, and a
// run stamped ahead must not stay the last one.
func (db *DB) lastRunEnd(ctx context.Context, status string) (*RunEnd, error) {
	var at, got string
	var tookMS int64
	err := db.r.QueryRowContext(ctx, `SELECT at, json_extract(detail, '$.status'), json_extract(detail, '$.took_ms')
		FROM audit_log WHERE kind = ? AND (? = '' OR json_extract(detail, '$.status') = ?)
		ORDER BY id DESC LIMIT 1`, AuditRunEnd, status, status).Scan(&at, &got, &tookMS)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: job status: last run: %w", err)
	}
	t, err := ParseTime(at)
	if err != nil {
		return nil, fmt.Errorf("store: job status: last run: %w", err)
	}
	return &RunEnd{At: t, Status: got, Took: time.Duration(tookMS) * time.Millisecond}, nil
}
