package store

import (
	"context"
	"fmt"

	"github.com/tally-health/tally"
)

// openUncertainByCell sums the conversions of the open upload_uncertain
// rows (resent_by NULL) per cell, keyed as checkUploads keys its rows.
func (db *DB) openUncertainByCell(ctx context.Context) (map[string]int64, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT day || '/' || platform || '/' || campaign || '/' || conversion, sum(n)
		FROM upload_uncertain WHERE resent_by IS NULL GROUP BY day, platform, campaign, conversion`)
	if err != nil {
		return nil, fmt.Errorf("store: verify upload_uncertain: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var key string
		var n int64
		if err := rows.Scan(&key, &n); err != nil {
			return nil, fmt.Errorf("store: verify upload_uncertain: %w", err)
		}
		out[key] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: verify upload_uncertain: %w", err)
	}
	return out, nil
}

// checkUncertain checks each upload_uncertain row: its request exists,
// carried exactly that run of conversions, had no 2xx answer, and the
// audit log recorded its outcome as uncertain; a resent_by names a later
// request whose answer lists the row as resent.
func (db *DB) checkUncertain(ctx context.Context, ix auditIndex, c *DataCheck) error {
	rows, err := db.r.QueryContext(ctx, `SELECT uu.id, uu.request_id, uu.resent_by, r.id IS NOT NULL, coalesce(r.status, 0),
		EXISTS (SELECT 1 FROM upload_request_cells rc WHERE rc.request_id = uu.request_id AND rc.day = uu.day
			AND rc.platform = uu.platform AND rc.campaign = uu.campaign AND rc.conversion = uu.conversion
			AND rc.first_index = uu.first_index AND rc.n = uu.n)
		FROM upload_uncertain uu LEFT JOIN upload_requests r ON r.id = uu.request_id ORDER BY uu.id`)
	if err != nil {
		return fmt.Errorf("store: verify upload_uncertain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, request, status int64
		var resentBy *int64
		var exists, carried bool
		if err := rows.Scan(&id, &request, &resentBy, &exists, &status, &carried); err != nil {
			return fmt.Errorf("store: verify upload_uncertain: %w", err)
		}
		key := idKey(id)
		ans := ix.answers[request]
		switch {
		case !exists:
			c.problem("upload_uncertain", key, "points at request %d, which does not exist", request)
		case status >= 200 && status < 300:
			c.problem("upload_uncertain", key, "request %d was answered %d: its outcome is known", request, status)
		case !carried:
			c.problem("upload_uncertain", key, "request %d did not carry these conversions", request)
		case ans.Outcome != tally.Uncertain.String():
			c.problem("upload_uncertain", key, "the audit log does not record request %d's outcome as uncertain", request)
		case resentBy != nil && !resends(ix.answers[*resentBy], id):
			c.problem("upload_uncertain", key, "resent_by %d, but that request's answer does not resend it", *resentBy)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: verify upload_uncertain: %w", err)
	}
	return nil
}

// resends reports whether an answer entry lists upload_uncertain row id
// among those its request resent.
func resends(ans auditDetail, id int64) bool {
	for _, r := range ans.ResendsUncertain {
		if r == id {
			return true
		}
	}
	return false
}
