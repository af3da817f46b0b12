package store_test

import (
	"context"
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

func seedCount(t *testing.T, db *store.DB, day, platform, campaign, status string, released int) {
	t.Helper()
	_, err := sqlfile.Open(t, db.Path).Exec(`INSERT INTO daily_counts
		(day, platform, campaign, conversion, raw_count, carried_in, noise, total, released_count, status,
		 carry_age, gate_min_count, gate_small_counts, gate_carry_days, gate_noise, gate_epsilon, sealed_at)
		VALUES (?, ?, ?, 'booking', 20, 0, 0, 20, ?, ?, 0, 11, 'carry', 7, 'none', 1.0, '2026-11-21T03:00:00.000Z')`,
		day, platform, campaign, released, status)
	if err != nil {
		t.Fatal(err)
	}
}

func TestUploadLedger(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	seedCount(t, db, "2026-11-20", "meta", "a", "released", 20)
	seedCount(t, db, "2026-11-20", "meta", "b", "held", 0)
	seedCount(t, db, "2026-11-19", "meta", "a", "released", 15)
	seedCount(t, db, "2026-11-20", "google", "a", "released", 20)

	n, err := db.QueueUploads(ctx, "meta", "2026-11-20", now)
	if err != nil || n != 1 {
		t.Fatalf("queue one day = %d, %v; want 1", n, err)
	}
	if n, err = db.QueueUploads(ctx, "meta", "", now); err != nil || n != 1 {
		t.Fatalf("queue all days = %d, %v; want 1 more", n, err)
	}
	if n, _ = db.QueueUploads(ctx, "meta", "", now); n != 0 {
		t.Fatalf("queue again = %d, want 0", n)
	}
	ups, err := db.UnfinishedUploads(ctx, "meta", "", false)
	if err != nil || len(ups) != 2 || ups[0].Day != "2026-11-19" || ups[0].Count != 15 || ups[0].State != tally.Pending {
		t.Fatalf("unfinished = %+v, %v", ups, err)
	}

	u := ups[1]
	u.Attempts++
	id, err := db.BeginUploadRequest(ctx, &store.UploadRequest{
		Platform: "meta", Method: "POST", URL: "https://graph.example/v21.0/1/events", Body: []byte(`{"data":[]}`),
		Attempt: 1, SentAt: now, Parts: []store.RequestPart{{Cell: u.Cell, First: 0, N: 20}},
	}, []*store.Upload{u})
	if err != nil {
		t.Fatal(err)
	}
	// Killed here: the request is on record without an answer.
	reqs, _ := db.UploadRequests(ctx, "meta")
	if len(reqs) != 1 || reqs[0].Status.Valid || reqs[0].Body != `{"data":[]}` {
		t.Fatalf("requests = %+v", reqs)
	}
	u.Next, u.Acked, u.State = 20, 20, tally.Sent
	if err := db.FinishUploadRequest(ctx, id, &store.UploadResponse{Status: 200, Body: []byte(`{"events_received":20}`), ReceivedAt: now}, []*store.Upload{u}); err != nil {
		t.Fatal(err)
	}
	reqs, _ = db.UploadRequests(ctx, "meta")
	if reqs[0].Status.Int64 != 200 || reqs[0].Response.String != `{"events_received":20}` || reqs[0].Error.Valid {
		t.Fatalf("finished request = %+v", reqs[0])
	}
	var parts int
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM upload_request_cells WHERE request_id = ? AND n = 20`, id).Scan(&parts)
	if parts != 1 {
		t.Errorf("request cells = %d", parts)
	}
	ups, _ = db.UnfinishedUploads(ctx, "meta", "", false)
	if len(ups) != 1 || ups[0].Day != "2026-11-19" {
		t.Fatalf("after send, unfinished = %+v", ups)
	}

	// dry_run rows are work for a real run, not for another dry run.
	ups[0].State = tally.DryRun
	if err := db.SaveUploads(ctx, ups, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.UnfinishedUploads(ctx, "meta", "", true); len(got) != 0 {
		t.Errorf("dry run sees %d rows, want 0", len(got))
	}
	if got, _ := db.UnfinishedUploads(ctx, "meta", "", false); len(got) != 1 {
		t.Errorf("real run sees %d rows, want 1", len(got))
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE uploads SET state = 'lost'`); err == nil {
		t.Error("state outside the vocabulary accepted")
	}
}

// The ledger migration rebuilds uploads for the partial and uncertain
// states: rows survive, a finished failed row with acknowledged
// conversions becomes partial, and the index is back.
func TestLedgerMigrationKeepsRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tally.db")
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	before := slices.IndexFunc(files, func(f string) bool { return strings.HasSuffix(f, "_ledger.sql") })
	if before < 0 {
		t.Fatal("no *_ledger.sql migration")
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files[:before] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	const ts = "2026-11-21T06:00:00.000Z"
	if _, err := raw.Exec(`PRAGMA user_version = `+strconv.Itoa(before)+`;
		INSERT INTO uploads (day, platform, campaign, conversion, count, next_index, acked, rejected, state, last_error, created_at, updated_at) VALUES
		('2026-11-20', 'meta', 'a', 'booking', 30, 30, 29, 1, 'failed', 'bad one', ?, ?),
		('2026-11-20', 'meta', 'b', 'booking', 12, 12, 0, 12, 'failed', 'all bad', ?, ?),
		('2026-11-20', 'meta', 'c', 'booking', 12, 12, 12, 0, 'sent', '', ?, ?)`, ts, ts, ts, ts, ts, ts); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]tally.State{}
	rows, err := sqlfile.Open(t, db.Path).Query(`SELECT campaign, state, uncertain FROM uploads ORDER BY campaign`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var s tally.State
		var n int
		if err := rows.Scan(&c, &s, &n); err != nil || n != 0 {
			t.Fatalf("row %s: %v, uncertain %d", c, err, n)
		}
		got[c] = s
	}
	if want := map[string]tally.State{"a": tally.Partial, "b": tally.Failed, "c": tally.Sent}; !maps.Equal(got, want) {
		t.Errorf("states = %v, want %v", got, want)
	}
	var idx int
	if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'uploads_by_platform'`).Scan(&idx); err != nil || idx != 1 {
		t.Errorf("uploads_by_platform index: %d, %v", idx, err)
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE uploads SET state = 'uncertain', uncertain = 1 WHERE campaign = 'c'`); err != nil {
		t.Errorf("the new state is refused: %v", err)
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE uploads SET state = 'lost' WHERE campaign = 'c'`); err == nil {
		t.Error("the CHECK constraint no longer holds")
	}
}
