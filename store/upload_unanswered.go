package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tally-health/tally"
)

// unansweredError is the error recorded on a request that was written to
// the ledger before it was sent and never got an answer: the process
// ended (SIGKILL, power loss) while it was in flight.
const unansweredError = "no answer recorded: the process ended while the request was in flight; outcome unknown"

// SettleUnanswered closes platform's requests that were recorded as sent
// and never answered (status, error and received_at all NULL), and returns
// how many conversions it made uncertain. Call it only under the run lock,
// before delivering, for a platform that does not deduplicate (GA4): the
// platform may have counted such a request, so sending its conversions
// again could count them twice. Conversions it carried for the first time
// become uncertain (resent only with `tally upload --resend-uncertain`);
// a resend's range stays uncertain under the new request; conversions
// already resolved by a later request (a run of an older tally resent
// them) are left as they are. Each request gets its answer row and audit
// entry, so the next run sees it answered.
func (db *DB) SettleUnanswered(ctx context.Context, platform tally.Platform, now time.Time) (int, error) {
	ids, err := db.unansweredRequests(ctx, platform)
	if err != nil {
		return 0, err
	}
	rows := map[tally.Cell]*Upload{}
	total := 0
	for _, id := range ids {
		n, err := db.settleUnanswered(ctx, id, rows, now)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// unansweredRequests lists platform's requests without any answer, oldest
// first.
func (db *DB) unansweredRequests(ctx context.Context, platform tally.Platform) ([]int64, error) {
	ids, err := queryAll(ctx, db.r, func(rows *sql.Rows, id *int64) error { return rows.Scan(id) }, `SELECT id FROM upload_requests
		WHERE platform = ? AND status IS NULL AND error IS NULL AND received_at IS NULL ORDER BY id`, platform)
	if err != nil {
		return nil, fmt.Errorf("store: unanswered requests: %w", err)
	}
	return ids, nil
}

// settleUnanswered closes request id (see SettleUnanswered). rows caches
// the uploads rows already moved, so requests of one cell compose.
func (db *DB) settleUnanswered(ctx context.Context, id int64, rows map[tally.Cell]*Upload, now time.Time) (int, error) {
	parts, err := db.requestParts(ctx, id)
	if err != nil {
		return 0, err
	}
	resp := &UploadResponse{Error: unansweredError, ReceivedAt: now}
	var moved []*Upload
	n := 0
	for _, p := range parts {
		u, ok := rows[p.Cell]
		if !ok {
			if u, err = db.Upload(ctx, p.Cell); err != nil {
				return 0, err
			}
			if u == nil {
				return 0, fmt.Errorf("store: unanswered request %d: no uploads row for %s/%s/%s/%s", id, p.Day, p.Platform, p.Campaign, p.Conversion)
			}
			rows[p.Cell] = u
		}
		switch {
		case p.First == u.Next:
			// A first delivery: the request was recorded before it was
			// sent, and nothing after it moved the row.
			u.Next += p.N
			u.Uncertain += p.N
			u.State = tally.Uncertain
			u.LastError = "outcome unknown, not resent (tally upload --resend-uncertain sends it once more): " + unansweredError
			resp.Unknown = true
			moved = append(moved, u)
			n += p.N
		case p.First+p.N <= u.Next:
			// A resend of an uncertain range stays uncertain; anything
			// else was resolved later and is left alone.
			rid, err := db.openUncertainRange(ctx, id, p)
			if err != nil {
				return 0, err
			}
			if rid != 0 {
				resp.Settles = append(resp.Settles, rid)
				resp.Unknown = true
			}
		default:
			return 0, fmt.Errorf("store: unanswered request %d: conversions %d+%d do not follow next_index %d of %s/%s/%s/%s",
				id, p.First, p.N, u.Next, p.Day, p.Platform, p.Campaign, p.Conversion)
		}
	}
	if err := db.FinishUploadRequest(ctx, id, resp, moved); err != nil {
		return 0, fmt.Errorf("store: settle unanswered request %d: %w", id, err)
	}
	return n, nil
}

// requestParts returns the conversions request id carried.
func (db *DB) requestParts(ctx context.Context, id int64) ([]RequestPart, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, p *RequestPart) error {
		return rows.Scan(&p.Day, &p.Platform, &p.Campaign, &p.Conversion, &p.First, &p.N)
	}, `SELECT day, platform, campaign, conversion, first_index, n
		FROM upload_request_cells WHERE request_id = ? ORDER BY rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("store: request %d parts: %w", id, err)
	}
	return out, nil
}

// openUncertainRange returns the open upload_uncertain row, of another
// request, covering exactly part p (the range request id resent), or 0.
func (db *DB) openUncertainRange(ctx context.Context, id int64, p RequestPart) (int64, error) {
	var rid int64
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(min(id), 0) FROM upload_uncertain
		WHERE resent_by IS NULL AND request_id != ? AND day = ? AND platform = ? AND campaign = ? AND conversion = ?
		AND first_index = ? AND n = ?`, id, p.Day, p.Platform, p.Campaign, p.Conversion, p.First, p.N).Scan(&rid)
	if err != nil {
		return 0, fmt.Errorf("store: uncertain range of request %d: %w", id, err)
	}
	return rid, nil
}
