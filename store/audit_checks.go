package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/tally-health/tally"
)

// checkDailyCounts compares each sealed day's rows with the hash its seal
// recorded, and finds rows of a day that no seal wrote.
func (db *DB) checkDailyCounts(ctx context.Context, ix auditIndex, c *DataCheck) error {
	days, err := db.strings(ctx, `SELECT DISTINCT day FROM daily_counts ORDER BY day`)
	if err != nil {
		return fmt.Errorf("store: verify daily_counts: %w", err)
	}
	for _, day := range days {
		if _, ok := ix.seals[day]; !ok {
			c.problem("daily_counts", day, "rows of a day no seal in the audit log wrote")
		}
	}
	for day, seal := range ix.seals {
		if seal.DailyCountsSHA256 == nil {
			c.UnhashedDays++ // sealed before seals recorded the hash
			continue
		}
		sum, n, err := dailyCountsHash(ctx, db.r, tally.Day(day))
		if err != nil {
			return fmt.Errorf("store: verify: %w", err)
		}
		if sum != *seal.DailyCountsSHA256 {
			c.problem("daily_counts", day, "the %d rows do not match the hash the seal recorded: a row was edited, added or deleted", n)
			continue
		}
		c.SealedDays++
	}
	return nil
}

// requestRow is an upload_requests row as the check reads it.
type requestRow struct {
	id                   int64
	platform, url, body  string
	conversions, carried int64
	status               sql.NullInt64
	response, prunedAt   sql.NullString
}

// checkRequests compares each request with its audit entries: platform,
// URL, conversions and the body's hash from the request entry; status and
// the response's hash from the answer entry. Pruned rows must be covered by
// a recorded prune; their hashes stay in the log and are not rechecked.
func (db *DB) checkRequests(ctx context.Context, ix auditIndex, c *DataCheck) error {
	rows, err := db.r.QueryContext(ctx, `SELECT id, platform, url, body, conversions, status, response, pruned_at,
		(SELECT coalesce(sum(n), 0) FROM upload_request_cells WHERE request_id = upload_requests.id)
		FROM upload_requests ORDER BY id`)
	if err != nil {
		return fmt.Errorf("store: verify upload_requests: %w", err)
	}
	defer rows.Close()
	seen := map[int64]bool{}
	prunedBy := map[string]int64{} // rows marked, by pruned_at
	for rows.Next() {
		var r requestRow
		if err := rows.Scan(&r.id, &r.platform, &r.url, &r.body, &r.conversions, &r.status, &r.response, &r.prunedAt, &r.carried); err != nil {
			return fmt.Errorf("store: verify upload_requests: %w", err)
		}
		seen[r.id] = true
		c.Requests++
		if r.prunedAt.Valid {
			c.Pruned++
			prunedBy[r.prunedAt.String]++
			if !prunedCovers(ix.pruned[r.prunedAt.String], r.id) {
				c.problem("upload_requests", idKey(r.id), "marked pruned at %s, but no recorded prune covers it", r.prunedAt.String)
			}
		}
		checkRequest(c, r, ix)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: verify upload_requests: %w", err)
	}
	for id := range ix.requests {
		if !seen[id] {
			c.problem("upload_requests", idKey(id), "recorded in the audit log but the row is gone")
		}
	}
	for at, ps := range ix.pruned {
		var want int64
		for _, p := range ps {
			want += p.Requests
		}
		if prunedBy[at] != want {
			c.problem("upload_requests", "pruned at "+at, "%d rows marked, the prune recorded %d", prunedBy[at], want)
		}
	}
	return nil
}

// prunedCovers reports whether a recorded prune's id range holds id.
func prunedCovers(ps []auditDetail, id int64) bool {
	for _, p := range ps {
		if id >= p.FirstID && id <= p.LastID {
			return true
		}
	}
	return false
}

// checkRequest compares one request row with its entries.
func checkRequest(c *DataCheck, r requestRow, ix auditIndex) {
	key := idKey(r.id)
	req, ok := ix.requests[r.id]
	if !ok {
		c.problem("upload_requests", key, "no upload_request entry in the audit log")
		return
	}
	if r.platform != req.Platform || r.url != req.URL || r.conversions != req.Conversions {
		c.problem("upload_requests", key, "platform, url or conversions differ from the audit entry")
	}
	if r.carried != r.conversions {
		c.problem("upload_request_cells", key, "cells carry %d conversions, the request %d", r.carried, r.conversions)
	}
	if !r.prunedAt.Valid && sha256Hex(r.body) != req.BodySHA256 {
		c.problem("upload_requests", key, "body does not match the body_sha256 recorded when it was sent")
	}
	ans, answered := ix.answers[r.id]
	switch {
	case !answered && r.status.Valid:
		c.problem("upload_requests", key, "has status %d but no answer in the audit log", r.status.Int64)
	case !answered:
	case r.status.Int64 != ans.Status: // NULL reads as 0, as the entry records no answer
		c.problem("upload_requests", key, "status %d differs from the recorded %d", r.status.Int64, ans.Status)
	case !r.prunedAt.Valid && r.response.Valid && sha256Hex(r.response.String) != ans.ResponseSHA256:
		c.problem("upload_requests", key, "response does not match the response_sha256 recorded when it came")
	}
}

// checkUploads checks each uploads row against its requests: acked,
// rejected and uncertain together add up to next_index, stay within the
// conversions its requests carried (distinct indexes) and its count, and
// count equals the released count; a row marked sent has nothing refused,
// unknown or left; and uncertain equals the conversions of its open
// upload_uncertain rows.
func (db *DB) checkUploads(ctx context.Context, _ auditIndex, c *DataCheck) error {
	open, err := db.openUncertainByCell(ctx)
	if err != nil {
		return err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT u.day, u.platform, u.campaign, u.conversion, u.count, u.next_index,
		u.acked, u.rejected, u.uncertain, u.state, coalesce(d.released_count, -1), rc.first_index, rc.n
		FROM uploads u
		LEFT JOIN daily_counts d USING (day, platform, campaign, conversion)
		LEFT JOIN upload_request_cells rc USING (day, platform, campaign, conversion)
		ORDER BY u.day, u.platform, u.campaign, u.conversion, rc.first_index`)
	if err != nil {
		return fmt.Errorf("store: verify uploads: %w", err)
	}
	defer rows.Close()
	var cur uploadTally
	flush := func() {
		if cur.key != "" {
			c.Uploads++
			cur.check(c, open[cur.key])
			delete(open, cur.key)
		}
	}
	for rows.Next() {
		var day, platform, campaign, conversion string
		var u uploadTally
		var first, n sql.NullInt64
		if err := rows.Scan(&day, &platform, &campaign, &conversion, &u.count, &u.next, &u.acked, &u.rejected, &u.uncertain,
			&u.state, &u.released, &first, &n); err != nil {
			return fmt.Errorf("store: verify uploads: %w", err)
		}
		if u.key = day + "/" + platform + "/" + campaign + "/" + conversion; u.key != cur.key {
			flush()
			cur = u
		}
		if !first.Valid {
			continue
		}
		// Requests are ordered by first index: count each index once,
		// however often it was retried or resent.
		end := first.Int64 + n.Int64
		if end > cur.reach {
			cur.carried += end - max(first.Int64, cur.reach)
			cur.reach = end
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: verify uploads: %w", err)
	}
	flush()
	for key, n := range open {
		c.problem("upload_uncertain", key, "%d conversions left uncertain for a cell with no uploads row", n)
	}
	return nil
}

// uploadTally is one uploads row and what its requests carried.
type uploadTally struct {
	key                                               string
	state                                             tally.State
	count, next, acked, rejected, uncertain, released int64
	carried, reach                                    int64
}

// check reports the first way the row disagrees with its requests; open
// is the conversions of the cell's open upload_uncertain rows.
func (u uploadTally) check(c *DataCheck, open int64) {
	resolved := u.acked + u.rejected + u.uncertain
	switch {
	case u.released >= 0 && u.count != u.released:
		c.problem("uploads", u.key, "count %d differs from the released_count %d", u.count, u.released)
	case resolved > u.carried:
		c.problem("uploads", u.key, "acked %d + rejected %d + uncertain %d exceed the %d conversions its requests carried",
			u.acked, u.rejected, u.uncertain, u.carried)
	case resolved > u.count || u.next > u.count:
		c.problem("uploads", u.key, "acked, rejected, uncertain or next_index beyond count %d", u.count)
	case resolved != u.next:
		c.problem("uploads", u.key, "acked %d + rejected %d + uncertain %d differ from next_index %d",
			u.acked, u.rejected, u.uncertain, u.next)
	case u.uncertain != open:
		c.problem("uploads", u.key, "uncertain %d, but its open upload_uncertain rows hold %d", u.uncertain, open)
	case u.state == tally.Sent && (u.next != u.count || u.rejected+u.uncertain > 0):
		c.problem("uploads", u.key, "state sent, but %d of %d delivered (%d rejected, %d uncertain)",
			u.acked, u.count, u.rejected, u.uncertain)
	}
}

// checkPurges matches each purges row with a purge entry of its day and
// event count, and each entry with a row.
func (db *DB) checkPurges(ctx context.Context, ix auditIndex, c *DataCheck) error {
	keys, err := db.strings(ctx, `SELECT day || '|' || events FROM purges ORDER BY id`)
	if err != nil {
		return fmt.Errorf("store: verify purges: %w", err)
	}
	left := map[string]int{}
	for k, n := range ix.purges {
		left[k] = n
	}
	for _, k := range keys {
		if left[k] == 0 {
			c.problem("purges", k, "no purge entry in the audit log records this day and count")
			continue
		}
		left[k]--
		c.Purges++
	}
	for k, n := range left {
		if n > 0 {
			c.problem("purges", k, "the audit log records a purge with no purges row")
		}
	}
	return nil
}

// strings runs a query of one text column.
func (db *DB) strings(ctx context.Context, query string) ([]string, error) {
	return queryAll(ctx, db.r, func(rows *sql.Rows, s *string) error { return rows.Scan(s) }, query)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func idKey(id int64) string { return "id " + strconv.FormatInt(id, 10) }
