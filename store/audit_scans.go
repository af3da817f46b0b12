package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
)

// scanEntry is the detail of a scan entry.
type scanEntry struct {
	ScanID   *int64         `json:"scan_id"`
	Pages    int64          `json:"pages"`
	Findings int64          `json:"findings"`
	Failed   int64          `json:"failed"`
	Trackers map[string]int `json:"trackers"`
}

// checkScans compares each scan entry with its scans row (pages, failed,
// findings) and its scan_findings rows (how many of each tracker): a
// finding deleted to hide a pixel, or a scan row edited, fails. Scans
// recorded before scans had entries are not checked; any later scans row
// without an entry is reported.
func (db *DB) checkScans(ctx context.Context, _ auditIndex, c *DataCheck) error {
	entries := map[int64]scanEntry{}
	first := int64(-1)
	err := db.AuditEntries(ctx, "", func(e AuditEntry) error {
		if e.Kind != AuditScan {
			return nil
		}
		var s scanEntry
		if err := json.Unmarshal([]byte(e.Detail), &s); err != nil {
			return fmt.Errorf("store: audit row %d: detail: %w", e.ID, err)
		}
		if s.ScanID != nil {
			entries[*s.ScanID] = s
			if first < 0 || *s.ScanID < first {
				first = *s.ScanID
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT s.id, s.pages, s.failed, s.findings, f.tracker, count(f.id)
		FROM scans s LEFT JOIN scan_findings f ON f.scan_id = s.id GROUP BY s.id, f.tracker ORDER BY s.id`)
	if err != nil {
		return fmt.Errorf("store: verify scans: %w", err)
	}
	defer rows.Close()
	type scanRow struct {
		pages, failed, findings int64
		trackers                map[string]int
	}
	got := map[int64]*scanRow{}
	for rows.Next() {
		var id, pages, failed, findings int64
		var tracker *string
		var n int
		if err := rows.Scan(&id, &pages, &failed, &findings, &tracker, &n); err != nil {
			return fmt.Errorf("store: verify scans: %w", err)
		}
		r := got[id]
		if r == nil {
			r = &scanRow{pages: pages, failed: failed, findings: findings, trackers: map[string]int{}}
			got[id] = r
		}
		if tracker != nil {
			r.trackers[*tracker] = n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: verify scans: %w", err)
	}
	for id, r := range got {
		e, ok := entries[id]
		switch {
		case !ok && first >= 0 && id > first:
			c.problem("scans", idKey(id), "no scan entry in the audit log")
		case !ok:
		case r.pages != e.Pages || r.failed != e.Failed || r.findings != e.Findings:
			c.problem("scans", idKey(id), "pages, failed or findings differ from the scan entry")
		case !maps.Equal(r.trackers, e.Trackers) && (len(r.trackers) > 0 || len(e.Trackers) > 0):
			c.problem("scan_findings", "scan "+idKey(id), "findings by tracker %v differ from the scan entry's %v", r.trackers, e.Trackers)
		}
	}
	for id := range entries {
		if got[id] == nil {
			c.problem("scans", idKey(id), "recorded in the audit log but the row is gone")
		}
	}
	return nil
}
