package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// TestJobStatusLastRunIsTheLastWritten: the last run is the run_end entry
// written last, not the one with the latest wall-clock time. A run under
// a clock that was ahead (then corrected) must not stay "the last run":
// its future end time would keep tally_run_last_success_timestamp_seconds
// ahead of time() and silence the no-successful-run alert.
func TestJobStatusLastRunIsTheLastWritten(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	// A run_end written while the clock read 2099 (the hash does not
	// matter here: JobStatus reads, it does not verify).
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, `INSERT INTO audit_log (id, at, kind, detail, prev_hash, hash)
		VALUES ((SELECT coalesce(max(id), 0) + 1 FROM audit_log), '2099-01-01T00:00:00.000Z', ?, '{"status":"ok","took_ms":5}', '', 'x')`,
		store.AuditRunEnd); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := db.AppendAudit(ctx, store.AuditRunEnd, map[string]any{"status": store.RunFailed, "took_ms": 7}); err != nil {
		t.Fatal(err)
	}
	s, err := db.JobStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.LastRun == nil || s.LastRun.Status != store.RunFailed || s.LastRun.At.Before(before.Truncate(time.Millisecond)) {
		t.Errorf("last run = %+v, want the failed run written last, at the real time", s.LastRun)
	}
	if s.LastOK == nil || s.LastOK.At.Year() != 2099 {
		t.Errorf("last ok = %+v, want the only ok run", s.LastOK)
	}
}
