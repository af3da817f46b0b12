package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// ScanFinding is one tracker found on one page by tally scan.
type ScanFinding struct {
	Page      string
	Tracker   string
	TrackerID string // account or pixel id, "" when not visible
	Evidence  string
	Source    string
}

// Scan is the record of one tally scan run.
type Scan struct {
	ID        int64
	ScannedAt time.Time
	Targets   []string
	Pages     int
	Scripts   int
	Skipped   int
	Failed    int
	Findings  []ScanFinding
}

// AddScan records a scan and its findings in one transaction and returns
// the scan's id. Anything else that must commit with the scan (an audit
// entry) belongs in the same transaction.
func (db *DB) AddScan(ctx context.Context, s Scan) (int64, error) {
	targets, err := json.Marshal(s.Targets)
	if err != nil {
		return 0, fmt.Errorf("store: scan: encode targets: %w", err)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: scan: begin: %w", err)
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, `INSERT INTO scans (scanned_at, targets, pages, scripts, skipped, failed, findings)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		FormatTime(s.ScannedAt), string(targets), s.Pages, s.Scripts, s.Skipped, s.Failed, len(s.Findings))
	if err != nil {
		return 0, fmt.Errorf("store: scan: insert: %w", err)
	}
	id, err := r.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: scan: id: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO scan_findings (scan_id, page, tracker, tracker_id, evidence, source)
		VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, fmt.Errorf("store: scan: prepare: %w", err)
	}
	defer stmt.Close()
	for _, f := range s.Findings {
		if _, err := stmt.ExecContext(ctx, id, f.Page, f.Tracker, f.TrackerID, f.Evidence, f.Source); err != nil {
			return 0, fmt.Errorf("store: scan: insert finding: %w", err)
		}
	}
	trackers := map[string]int{}
	for _, f := range s.Findings {
		trackers[f.Tracker]++
	}
	if err := db.appendAudit(ctx, tx, AuditScan, map[string]any{"scan_id": id, "pages": s.Pages,
		"findings": len(s.Findings), "trackers": trackers, "failed": s.Failed}); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: scan: commit: %w", err)
	}
	return id, nil
}

// LatestScan returns the most recent scan with its findings, or ok=false
// when no scan was ever recorded.
func (db *DB) LatestScan(ctx context.Context) (s Scan, ok bool, err error) {
	var at, targets string
	var n int
	err = db.r.QueryRowContext(ctx, `SELECT id, scanned_at, targets, pages, scripts, skipped, failed, findings
		FROM scans ORDER BY id DESC LIMIT 1`).Scan(&s.ID, &at, &targets, &s.Pages, &s.Scripts, &s.Skipped, &s.Failed, &n)
	if ok, err := foundAt("store: latest scan", err, at, &s.ScannedAt); !ok {
		return Scan{}, false, err
	}
	if err := json.Unmarshal([]byte(targets), &s.Targets); err != nil {
		return Scan{}, false, fmt.Errorf("store: latest scan: bad targets: %w", err)
	}
	s.Findings, err = queryAll(ctx, db.r, func(rows *sql.Rows, f *ScanFinding) error {
		return rows.Scan(&f.Page, &f.Tracker, &f.TrackerID, &f.Evidence, &f.Source)
	}, `SELECT page, tracker, tracker_id, evidence, source
		FROM scan_findings WHERE scan_id = ? ORDER BY id`, s.ID)
	if err != nil {
		return Scan{}, false, fmt.Errorf("store: latest scan findings: %w", err)
	}
	if len(s.Findings) != n {
		return Scan{}, false, fmt.Errorf("store: latest scan %d: %d findings stored, header says %d", s.ID, len(s.Findings), n)
	}
	return s, true, nil
}
