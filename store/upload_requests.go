package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tally-health/tally"
)

// UploadRequest is one HTTP request to a platform as the ledger keeps it.
// URL never holds a credential.
type UploadRequest struct {
	Platform tally.Platform
	Method   string
	URL      string
	Body     []byte
	Attempt  int
	SentAt   time.Time
	// Parts says which conversions the request carries.
	Parts []RequestPart
}

// RequestPart is a run of conversions [First, First+N) of one cell.
type RequestPart struct {
	tally.Cell
	First, N int
}

// UploadResponse is what came back for a request. Status 0 means no answer
// (Error says why).
type UploadResponse struct {
	Status     int
	Body       []byte
	Error      string
	ReceivedAt time.Time
	// Unknown marks an answer that does not say whether the platform
	// processed the request (a timeout after the body was written, a 5xx):
	// its conversions get open upload_uncertain rows.
	Unknown bool
	// Settles lists the upload_uncertain rows this request resent; the
	// answer closes them (resent_by).
	Settles []int64
}

// BeginUploadRequest records a request before it is sent, and counts an
// attempt on each uploads row it carries (ups), in one transaction. Written
// first, the ledger shows even a request whose answer never arrived.
func (db *DB) BeginUploadRequest(ctx context.Context, r *UploadRequest, ups []*Upload) (int64, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin upload request: %w", err)
	}
	defer tx.Rollback()
	if err := db.checkFence(ctx, tx); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range r.Parts {
		n += p.N
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO upload_requests (platform, method, url, body, conversions, attempt, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Platform, r.Method, r.URL, string(r.Body), n, r.Attempt, FormatTime(r.SentAt))
	if err != nil {
		return 0, fmt.Errorf("store: insert upload request: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: insert upload request: %w", err)
	}
	for _, p := range r.Parts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO upload_request_cells (request_id, day, platform, campaign, conversion, first_index, n)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, p.Day, p.Platform, p.Campaign, p.Conversion, p.First, p.N); err != nil {
			return 0, fmt.Errorf("store: insert upload request cell: %w", err)
		}
	}
	if err := saveUploads(ctx, tx, ups, r.SentAt); err != nil {
		return 0, err
	}
	sum := sha256.Sum256(r.Body)
	if err := db.appendAudit(ctx, tx, AuditUploadRequest, map[string]any{"request_id": id, "platform": r.Platform,
		"url": r.URL, "conversions": n, "body_sha256": hex.EncodeToString(sum[:])}); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: begin upload request: commit: %w", err)
	}
	return id, nil
}

// FinishUploadRequest records the answer to request id and the progress it
// made (ups) in one transaction: an acknowledgement and the ledger state
// that remembers it commit together.
func (db *DB) FinishUploadRequest(ctx context.Context, id int64, resp *UploadResponse, ups []*Upload) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: finish upload request: %w", err)
	}
	defer tx.Rollback()
	if err := db.checkFence(ctx, tx); err != nil {
		return err
	}
	var status, body, errText any
	if resp.Status != 0 {
		status, body = resp.Status, string(resp.Body)
	}
	if resp.Error != "" {
		errText = resp.Error
	}
	if _, err := tx.ExecContext(ctx, `UPDATE upload_requests SET status = ?, response = ?, error = ?, received_at = ? WHERE id = ?`,
		status, body, errText, FormatTime(resp.ReceivedAt), id); err != nil {
		return fmt.Errorf("store: finish upload request: %w", err)
	}
	if err := saveUploads(ctx, tx, ups, resp.ReceivedAt); err != nil {
		return err
	}
	if err := recordUncertain(ctx, tx, id, resp); err != nil {
		return err
	}
	sum := sha256.Sum256(resp.Body)
	answer := map[string]any{"request_id": id, "status": resp.Status, "response_sha256": hex.EncodeToString(sum[:])}
	if resp.Error != "" {
		answer["error"] = resp.Error
	}
	if resp.Unknown {
		answer["outcome"] = tally.Uncertain
	}
	if len(resp.Settles) > 0 {
		answer["resends_uncertain"] = resp.Settles
	}
	if err := db.appendAudit(ctx, tx, AuditUploadAnswer, answer); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: finish upload request: commit: %w", err)
	}
	return nil
}

// UploadRequestRow is an upload_requests row as read back (tests, audit).
type UploadRequestRow struct {
	ID       int64
	Platform tally.Platform
	URL      string
	Body     string
	Status   sql.NullInt64
	Response sql.NullString
	Error    sql.NullString
}

// UploadRequests returns every request to platform ("" for all), oldest first.
func (db *DB) UploadRequests(ctx context.Context, platform string) ([]UploadRequestRow, error) {
	out, err := queryAll(ctx, db.r, func(rows *sql.Rows, r *UploadRequestRow) error {
		return rows.Scan(&r.ID, &r.Platform, &r.URL, &r.Body, &r.Status, &r.Response, &r.Error)
	}, `SELECT id, platform, url, body, status, response, error FROM upload_requests
		WHERE ? = '' OR platform = ? ORDER BY id`, platform, platform)
	if err != nil {
		return nil, fmt.Errorf("store: upload requests: %w", err)
	}
	return out, nil
}
