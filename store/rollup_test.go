package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

func addCell(t *testing.T, db *store.DB, c tally.Cell, n int) {
	t.Helper()
	var evs []storetest.Event
	for i := range n {
		id := fmt.Sprintf("%s/%s/%d", c.Day, c.Campaign, i)
		evs = append(evs, storetest.Event{Cell: c, EventKey: []byte("e" + id), VisitorKey: []byte("v" + id)})
	}
	storetest.WriteEvents(t, db, evs...)
}

var releaseAll = storetest.ReleaseAll

func TestSealDay(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	day := tally.Day("2026-11-20")
	addCell(t, db, tally.Cell{Day: day, Platform: "meta", Campaign: "b", Conversion: "booking"}, 3)
	addCell(t, db, tally.Cell{Day: day, Platform: "meta", Campaign: "a", Conversion: "booking"}, 2)
	addCell(t, db, tally.Cell{Day: day, Platform: "none", Campaign: "", Conversion: "lead"}, 1)
	addCell(t, db, tally.Cell{Day: "2026-11-21", Platform: "meta", Campaign: "a", Conversion: "booking"}, 4)
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

	// A failing gate rolls the whole seal back.
	boom := errors.New("boom")
	if _, err := db.SealDay(ctx, day, now, nil, func(context.Context, store.SealInput) ([]store.DailyCount, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var salt []byte
	if err := sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT salt FROM days WHERE day = ?`, day).Scan(&salt); err != nil || salt == nil {
		t.Fatalf("failed seal touched the day: salt=%x err=%v", salt, err)
	}

	res, err := db.SealDay(ctx, day, now, nil, releaseAll)
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadySealed || res.Events != 6 || res.KeysDeleted != 6 || len(res.Rows) != 3 || res.SealedAt != "2026-11-21T03:00:00.000Z" {
		t.Errorf("result %+v", res)
	}
	rows, err := db.DailyCounts(ctx, day, day)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, r := range rows {
		got += fmt.Sprintf("%s/%s/%s=%d ", r.Platform, r.Campaign, r.Conversion, r.ReleasedCount)
	}
	if want := "meta/a/booking=2 meta/b/booking=3 none//lead=1 "; got != want {
		t.Errorf("daily_counts %q, want %q", got, want)
	}
	// Reproducible from events while they are kept.
	recount, err := db.CellCounts(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range recount {
		if c.Raw != rows[i].RawCount || c.Campaign != rows[i].Campaign {
			t.Errorf("recount %+v, stored %+v", c, rows[i])
		}
	}

	again, err := db.SealDay(ctx, day, now.Add(time.Hour), nil, releaseAll)
	if err != nil || !again.AlreadySealed || again.SealedAt != res.SealedAt {
		t.Errorf("second seal: %+v, %v", again, err)
	}

	// An empty day is sealed too: its row is created without a salt.
	if _, err := db.SealDay(ctx, "2026-11-19", now, nil, releaseAll); err != nil {
		t.Fatal(err)
	}
	days, err := db.Days(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(days) != "[{2026-11-19 2026-11-21T03:00:00.000Z} {2026-11-20 2026-11-21T03:00:00.000Z} {2026-11-21 }]" {
		t.Errorf("days %v", days)
	}
	from, to, ok, err := db.LastSealedDays(ctx, 30)
	if err != nil || !ok || from != "2026-11-19" || to != "2026-11-20" {
		t.Errorf("last sealed days %s %s %v %v", from, to, ok, err)
	}
}

func TestSealDayHeldAndNext(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	hold := func(_ context.Context, in store.SealInput) ([]store.DailyCount, error) {
		var out []store.DailyCount
		for _, c := range in.Raw {
			out = append(out, store.DailyCount{Cell: tally.Cell{Platform: c.Platform, Campaign: c.Campaign, Conversion: c.Conversion},
				RawCount: c.Raw, Total: c.Raw, Status: tally.Held,
				Gate: tally.GateParams{MinCount: 11, SmallCounts: tally.Carry, CarryDays: 7, Noise: tally.NoNoise, Epsilon: tally.Epsilon{Num: 1, Den: 1}}})
		}
		return out, nil
	}
	addCell(t, db, tally.Cell{Day: "2026-11-10", Platform: "meta", Campaign: "a", Conversion: "booking"}, 2)
	if _, err := db.SealDay(ctx, "2026-11-10", now, nil, hold); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SealDay(ctx, "2026-11-12", now, nil, hold); err != nil {
		t.Fatal(err)
	}
	var seen store.SealInput
	if _, err := db.SealDay(ctx, "2026-11-11", now, nil, func(_ context.Context, in store.SealInput) ([]store.DailyCount, error) {
		seen = in
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen.Held) != 1 || seen.Held[0].Total != 2 || seen.Held[0].Campaign != "a" || !seen.NextSealed || len(seen.Raw) != 0 {
		t.Errorf("gate saw %+v", seen)
	}
}

func TestPurgeEvents(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)
	for _, d := range []tally.Day{"2026-11-24", "2026-11-25", "2026-11-26"} {
		addCell(t, db, tally.Cell{Day: d, Platform: "meta", Campaign: "a", Conversion: "booking"}, 3)
		if _, err := db.SealDay(ctx, d, now, nil, releaseAll); err != nil {
			t.Fatal(err)
		}
	}
	addCell(t, db, tally.Cell{Day: "2026-11-27", Platform: "meta", Campaign: "a", Conversion: "booking"}, 2) // open: kept
	got, err := db.PurgeEvents(ctx, "2026-11-26", now)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[{2026-11-24 3} {2026-11-25 3}]" {
		t.Errorf("purged %v", got)
	}
	var left, recorded, kept int
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&left)
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT sum(events) FROM purges WHERE purged_at = ?`, store.FormatTime(now)).Scan(&recorded)
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT count(*) FROM daily_counts`).Scan(&kept)
	if left != 5 || recorded != 6 || kept != 3 {
		t.Errorf("events left %d (want 5), purges recorded %d (want 6), daily_counts %d (want 3)", left, recorded, kept)
	}
	if again, err := db.PurgeEvents(ctx, "2026-11-26", now); err != nil || len(again) != 0 {
		t.Errorf("second purge: %v %v", again, err)
	}
}
