package job

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// TestMetricsFileReportsTheLedger: the metrics file holds the last run
// (the last run_end entry) and the last successful one, cells by status,
// every conversion of the ledger in exactly one delivery state, and the
// age of the oldest pending conversion from its event time.
func TestMetricsFileReportsTheLedger(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	c := sqlfile.Open(t, db.Path)
	for _, stmt := range []string{
		// 2 released cells, 1 held.
		`INSERT INTO daily_counts VALUES ('2026-11-20', 'google', 'a', 'booking', 12, 0, 0, 12, 12, 'released', 0, 11, 'carry', 7, 'none', 1, '2026-11-21T03:00:00.000Z')`,
		`INSERT INTO daily_counts VALUES ('2026-11-21', 'meta', 'a', 'booking', 12, 0, 0, 12, 12, 'released', 0, 11, 'carry', 7, 'none', 1, '2026-11-22T03:00:00.000Z')`,
		`INSERT INTO daily_counts VALUES ('2026-11-21', 'meta', 'b', 'booking', 3, 0, 0, 3, 0, 'held', 0, 11, 'carry', 7, 'none', 1, '2026-11-22T03:00:00.000Z')`,
		// GA4: of 10, 3 acked, 1 refused, 2 uncertain, 4 never sent.
		`INSERT INTO uploads (day, platform, campaign, conversion, count, next_index, acked, rejected, uncertain, state, created_at, updated_at)
		 VALUES ('2026-11-20', 'google', 'a', 'booking', 10, 6, 3, 1, 2, 'uncertain', '2026-11-21T03:00:00.000Z', '2026-11-21T03:00:00.000Z')`,
		`INSERT INTO uploads (day, platform, campaign, conversion, count, state, created_at, updated_at)
		 VALUES ('2026-11-18', 'google', 'b', 'booking', 5, 'expired', '2026-11-19T03:00:00.000Z', '2026-11-22T03:00:00.000Z')`,
		`INSERT INTO uploads (day, platform, campaign, conversion, count, next_index, acked, state, created_at, updated_at)
		 VALUES ('2026-11-21', 'meta', 'a', 'booking', 12, 12, 12, 'sent', '2026-11-22T03:00:00.000Z', '2026-11-22T03:00:00.000Z')`,
	} {
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, end := range []map[string]any{
		{"status": store.RunOK, "took_ms": 1500, "failed_steps": []string{}},
		{"status": store.RunFailed, "took_ms": 2500, "failed_steps": []string{"upload"}},
	} {
		if err := db.AppendAudit(ctx, store.AuditRunEnd, end); err != nil {
			t.Fatal(err)
		}
	}
	var ends []time.Time
	err := db.AuditEntries(ctx, "", func(e store.AuditEntry) error {
		at, err := store.ParseTime(e.At)
		ends = append(ends, at)
		return err
	})
	if err != nil || len(ends) != 2 {
		t.Fatalf("audit entries: %v, %d", err, len(ends))
	}
	// GA4's oldest pending conversion carries 2026-11-20 12:00 in New York.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	now := time.Date(2026, 11, 22, 19, 0, 0, 0, time.UTC) // 50 h after 2026-11-20 12:00 EST (17:00 UTC)
	path := filepath.Join(t.TempDir(), "tally.prom")
	if err := (Metrics{DB: db, Loc: ny, Now: func() time.Time { return now }}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(raw)
	for name, at := range map[string]time.Time{
		"tally_run_last_success_timestamp_seconds": ends[0], "tally_run_last_end_timestamp_seconds": ends[1],
	} {
		_, rest, _ := strings.Cut(got, "\n"+name+" ")
		line, _, _ := strings.Cut(rest, "\n")
		if v, err := strconv.ParseFloat(line, 64); err != nil || v != float64(at.UnixMilli())/1000 {
			t.Errorf("%s %q, want %d.%03d", name, line, at.Unix(), at.UnixMilli()%1000)
		}
	}
	for _, want := range []string{
		"tally_run_last_duration_seconds 2.5",
		`tally_run_last_outcome{outcome="failed"} 1`,
		`tally_run_last_outcome{outcome="ok"} 0`,
		`tally_cells{status="released"} 2`,
		`tally_cells{status="held"} 1`,
		`tally_cells{status="suppressed"} 0`,
		`tally_conversions{platform="google",state="sent"} 3`,
		`tally_conversions{platform="google",state="failed"} 1`,
		`tally_conversions{platform="google",state="uncertain"} 2`,
		`tally_conversions{platform="google",state="pending"} 4`,
		`tally_conversions{platform="google",state="expired"} 5`,
		`tally_conversions{platform="meta",state="sent"} 12`,
		`tally_conversions{platform="meta",state="pending"} 0`,
		`tally_conversions{platform="tiktok",state="sent"} 0`,
		`tally_upload_oldest_pending_age_seconds{platform="google"} 180000`,
		`tally_upload_oldest_pending_age_seconds{platform="meta"} 0`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("metrics file lacks %q:\n%s", want, got)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("metrics file mode %v (%v), want 0644 for node_exporter", fi.Mode().Perm(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only the metrics file (no temporary left)", len(entries))
	}
}

// TestMetricsFileFolderMissing: a --metrics-file in a folder that does not
// exist, or that names a folder, is a usage error found before the run (a
// run would otherwise do all its work, then fail at step metrics), and
// WriteFile fails on it.
func TestMetricsFileFolderMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "tally.prom")
	for _, bad := range []string{path, t.TempDir()} {
		if err := CheckMetricsFile(bad); tally.KindOf(err) != tally.KindUsage {
			t.Errorf("CheckMetricsFile(%s): %v, want a usage error", bad, err)
		}
	}
	db := storetest.Open(t)
	if err := (Metrics{DB: db, Loc: time.UTC, Now: time.Now}).WriteFile(path); err == nil {
		t.Error("WriteFile into a missing folder succeeded")
	}
}
