package batch_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// dump renders every daily_counts column of every row exactly as stored.
func dump(t *testing.T, db *store.DB) string {
	t.Helper()
	rows, err := sqlfile.Open(t, db.Path).QueryContext(context.Background(), `SELECT * FROM daily_counts ORDER BY day, platform, campaign, conversion`)
	if err != nil {
		t.Fatal(err)
	}
	_, all := sqlfile.All(t, rows)
	out := ""
	for _, vals := range all {
		out += fmt.Sprintf("%#v\n", vals)
	}
	return out
}

func TestNoiseDrawnOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	for i := range 40 {
		addEvents(t, db, "2026-11-01", "meta", fmt.Sprintf("c%02d", i), "booking", 1+i%15)
	}
	g := gate(5, tally.Carry, 7)
	g.Noise, g.Epsilon = tally.Geometric, tally.Epsilon{Num: 1, Den: 2} // crypto noise: re-drawing would change rows
	r := roller(db, g, "2026-11-02T03:00:00Z")
	first, err := r.RollupDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := dump(t, db)
	nonzero := 0
	for _, row := range first[0].Rows {
		if row.Total < 0 || row.ReleasedCount < 0 {
			t.Errorf("negative count: %+v", row)
		}
		if row.Noise != 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("40 cells at epsilon 0.5 and no noise drawn")
	}
	for _, call := range []func() ([]batch.Sealed, error){
		func() ([]batch.Sealed, error) { return r.RollupDue(ctx) },
		func() ([]batch.Sealed, error) { return r.RollupRange(ctx, "2026-11-01", "2026-11-01") },
	} {
		if _, err := call(); err != nil {
			t.Fatal(err)
		}
		if after := dump(t, db); after != before {
			t.Fatalf("second rollup changed daily_counts:\n%s\nwas:\n%s", after, before)
		}
	}
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, `UPDATE daily_counts SET noise = 0`); err == nil {
		t.Error("daily_counts accepted an UPDATE")
	}
	if _, err := sqlfile.Open(t, db.Path).ExecContext(ctx, `DELETE FROM daily_counts`); err == nil {
		t.Error("daily_counts accepted a DELETE")
	}
}

// TestSealForgetsContributions reads the database after sealing: the salt
// is gone, the contribution hashes are NULL, and intake drops new events
// for the day as late.
func TestSealForgetsContributions(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	addEvents(t, db, "2026-11-01", "meta", "c", "booking", 5)
	addEvents(t, db, "2026-11-02", "meta", "c", "booking", 5)
	if _, err := roller(db, gate(11, tally.Carry, 7), "2026-11-02T03:00:00Z").RollupDue(ctx); err != nil {
		t.Fatal(err)
	}
	q := func(sql string, args ...any) int {
		var n int
		if err := sqlfile.Open(t, db.Path).QueryRowContext(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := q(`SELECT count(*) FROM days WHERE day = '2026-11-01' AND salt IS NULL AND sealed_at IS NOT NULL`); n != 1 {
		t.Error("sealed day still has its salt or no sealed_at")
	}
	if n := q(`SELECT count(*) FROM sqlite_schema WHERE name = 'contrib_20261101'`); n != 0 {
		t.Errorf("%d contribution hashes left on the sealed day", n)
	}
	if n := q(`SELECT count(*) FROM contrib_20261102`); n != 5 {
		t.Errorf("open day lost its contribution hashes: %d left", n)
	}
	if n := q(`SELECT count(*) FROM days WHERE day = '2026-11-02' AND salt IS NOT NULL AND sealed_at IS NULL`); n != 1 {
		t.Error("open day was touched")
	}
	late := storetest.Event{Cell: tally.Cell{Day: "2026-11-01", Platform: "meta", Campaign: "c", Conversion: "booking"},
		EventKey: []byte("late-event"), VisitorKey: []byte("late-visitor")}
	if got := storetest.WriteEvents(t, db, late); got[tally.Drop(tally.ReasonLate)] != 1 {
		t.Errorf("event for a sealed day: %v, want dropped/late", got)
	}
	if n := q(`SELECT raw_count FROM daily_counts WHERE day = '2026-11-01'`); n != 5 {
		t.Errorf("raw_count %d after a late event", n)
	}
}

// TestRollupDST: in America/New_York 2026-03-08 lasts 23 hours and
// 2026-11-01 lasts 25; each is due exactly close_after after its own end.
func TestRollupDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		day       tally.Day
		hours     float64
		dueAt     string
		lastEvent string // the last instant that falls on the day
	}{
		{"2026-03-08", 23, "2026-03-09T07:00:00Z", "2026-03-09T03:59:59Z"},
		{"2026-11-01", 25, "2026-11-02T08:00:00Z", "2026-11-02T04:59:59Z"},
		{"2026-11-02", 24, "2026-11-03T08:00:00Z", "2026-11-03T04:59:59Z"},
	}
	for _, tt := range tests {
		start, end := tt.day.Bounds(ny)
		if h := end.Sub(start).Hours(); h != tt.hours {
			t.Errorf("%s lasts %gh, want %g", tt.day, h, tt.hours)
		}
		due, _ := time.Parse(time.RFC3339, tt.dueAt)
		if got := tt.day.DueAt(ny, 3*time.Hour); !got.Equal(due) {
			t.Errorf("%s due at %s, want %s", tt.day, got.UTC(), due)
		}
		last, _ := time.Parse(time.RFC3339, tt.lastEvent)
		if d := tally.DayOf(last, ny); d != tt.day {
			t.Errorf("%s falls on %s, want %s", last, d, tt.day)
		}
		if d := tally.DayOf(last.Add(time.Second), ny); d != tt.day.Add(1) {
			t.Errorf("%s falls on %s, want the next day", last.Add(time.Second), d)
		}

		ctx := context.Background()
		db := storetest.Open(t)
		addEvents(t, db, tt.day, "google", "c", "booking", 11)
		r := &batch.Roller{DB: db, Loc: ny, CloseAfter: 3 * time.Hour, Gate: gate(11, tally.Carry, 7)}
		r.Now = func() time.Time { return due.Add(-time.Millisecond) }
		if got, _ := r.Due(ctx); len(got) != 0 {
			t.Errorf("%s due 1ms early: %v", tt.day, got)
		}
		r.Now = func() time.Time { return due }
		res, err := r.RollupDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Day != tt.day || res[0].Released != 1 || res[0].SealedAt != store.FormatTime(due) {
			t.Errorf("%s at due time: %+v", tt.day, res)
		}
	}
}
