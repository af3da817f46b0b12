package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// gate releases a total (raw plus what was carried in) of 5 or more,
// holds a smaller one and carries it to the next day, and suppresses a
// count that has already waited two days.
func gate(_ context.Context, in store.SealInput) ([]store.DailyCount, error) {
	rows := map[tally.Cell]*store.DailyCount{}
	var order []tally.Cell
	get := func(c tally.Cell) *store.DailyCount {
		if rows[c] == nil {
			rows[c] = &store.DailyCount{Cell: c, Gate: tally.GateParams{MinCount: 5, SmallCounts: tally.Carry, CarryDays: 2, Noise: tally.NoNoise, Epsilon: tally.Epsilon{Num: 1, Den: 1}}}
			order = append(order, c)
		}
		return rows[c]
	}
	for _, c := range in.Raw {
		r := get(tally.Cell{Platform: c.Platform, Campaign: c.Campaign, Conversion: c.Conversion})
		r.RawCount = c.Raw
	}
	for _, h := range in.Held {
		r := get(tally.Cell{Platform: h.Platform, Campaign: h.Campaign, Conversion: h.Conversion})
		r.CarriedIn, r.CarryAge = h.Total, h.CarryAge+1
	}
	var out []store.DailyCount
	for _, c := range order {
		r := rows[c]
		r.Total = r.RawCount + r.CarriedIn
		switch {
		case r.Total >= 5:
			r.Status, r.ReleasedCount = tally.Released, r.Total
		case r.CarryAge >= 2:
			r.Status = tally.Suppressed
		default:
			r.Status = tally.Held
		}
		out = append(out, *r)
	}
	return out, nil
}

// sealedDB holds four sealed days, 2026-11-01 (a Sunday) to 11-04, sealed
// with gate above, and the upload states of their released cells:
//
//	meta/a/booking    11-01 6 released (sent); 11-02 2 held; 11-03 1 held
//	                  (3 in all); 11-04 4, released 7 with 11-02..11-03's
//	                  carried in (pending)
//	meta/b/booking    11-01 2 held; 11-02 7, released 9 (sent)
//	google/a/booking  11-03 5 released (2 uncertain); 11-04 5 (expired)
//	none//lead        11-02 1 held; 11-03 0 held; 11-04 suppressed
func sealedDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	var evs []storetest.Event
	add := func(day tally.Day, platform tally.Platform, campaign, conversion string, n int) {
		for i := range n {
			id := fmt.Sprintf("%s/%s/%s/%d", day, platform, campaign, i)
			evs = append(evs, storetest.Event{
				Cell:     tally.Cell{Day: day, Platform: platform, Campaign: campaign, Conversion: conversion},
				EventKey: []byte("e" + id), VisitorKey: []byte("v" + id)})
		}
	}
	add("2026-11-01", "meta", "a", "booking", 6)
	add("2026-11-01", "meta", "b", "booking", 2)
	add("2026-11-02", "meta", "a", "booking", 2)
	add("2026-11-02", "meta", "b", "booking", 7)
	add("2026-11-02", "none", "", "lead", 1)
	add("2026-11-03", "meta", "a", "booking", 1)
	add("2026-11-03", "google", "a", "booking", 5)
	add("2026-11-04", "meta", "a", "booking", 4)
	add("2026-11-04", "google", "a", "booking", 5)
	storetest.WriteEvents(t, db, evs...)
	now := time.Date(2026, 11, 5, 3, 0, 0, 0, time.UTC)
	for _, day := range []tally.Day{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"} {
		if _, err := db.SealDay(ctx, day, now, nil, gate); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []tally.Platform{"meta", "google"} {
		if _, err := db.QueueUploads(ctx, p, "", now); err != nil {
			t.Fatal(err)
		}
	}
	setState := func(day tally.Day, platform tally.Platform, state tally.State, uncertain int) {
		u, err := db.Upload(ctx, tally.Cell{Day: day, Platform: platform, Campaign: "a", Conversion: "booking"})
		if err != nil || u == nil {
			t.Fatalf("upload %s/%s: %v", day, platform, err)
		}
		u.State, u.Uncertain, u.Next = state, uncertain, uncertain
		if state == tally.Sent {
			u.Next, u.Acked = u.Count, u.Count
		}
		if err := db.SaveUploads(ctx, []*store.Upload{u}, now); err != nil {
			t.Fatal(err)
		}
	}
	setState("2026-11-01", "meta", tally.Sent, 0)
	setState("2026-11-03", "google", tally.Uncertain, 2)
	setState("2026-11-04", "google", tally.Expired, 0)
	u, err := db.Upload(ctx, tally.Cell{Day: "2026-11-02", Platform: "meta", Campaign: "b", Conversion: "booking"})
	if err != nil || u == nil {
		t.Fatalf("upload 11-02 meta/b: %v", err)
	}
	u.State, u.Next, u.Acked = tally.Sent, u.Count, u.Count
	if err := db.SaveUploads(ctx, []*store.Upload{u}, now); err != nil {
		t.Fatal(err)
	}
	return db
}

const wantDaily = `day,platform,campaign,conversion,count,status,uncertain,carried_in,delivery
2026-11-01,meta,a,booking,6,released,0,,sent
2026-11-01,meta,b,booking,,held,0,,
2026-11-02,meta,a,booking,,held,0,,
2026-11-02,meta,b,booking,9,released,0,2026-11-01,sent
2026-11-02,none,,lead,,held,0,,
2026-11-03,google,a,booking,5,released,2,,uncertain
2026-11-03,meta,a,booking,,held,0,2026-11-02,
2026-11-03,none,,lead,,held,0,2026-11-02,
2026-11-04,google,a,booking,5,released,0,,expired
2026-11-04,meta,a,booking,7,released,0,2026-11-02..2026-11-03,pending
2026-11-04,none,,lead,,suppressed,0,2026-11-02..2026-11-03,
`

// TestRunWritesSealedDays: one row per cell and day, with the days a held
// count was carried in from and the released count's upload state.
func TestRunWritesSealedDays(t *testing.T) {
	db := sealedDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"csv, the default days", Options{Format: CSV}, wantDaily},
		{"csv, grouped by day", Options{Format: CSV, Group: tally.GroupDay}, wantDaily},
		{"json, one day", Options{From: "2026-11-02", To: "2026-11-02", Format: JSON}, `[
  {
    "day": "2026-11-02",
    "platform": "meta",
    "campaign": "a",
    "conversion": "booking",
    "count": null,
    "status": "held",
    "uncertain": 0,
    "carried_in": "",
    "delivery": ""
  },
  {
    "day": "2026-11-02",
    "platform": "meta",
    "campaign": "b",
    "conversion": "booking",
    "count": 9,
    "status": "released",
    "uncertain": 0,
    "carried_in": "2026-11-01",
    "delivery": "sent"
  },
  {
    "day": "2026-11-02",
    "platform": "none",
    "campaign": "",
    "conversion": "lead",
    "count": null,
    "status": "held",
    "uncertain": 0,
    "carried_in": "",
    "delivery": ""
  }
]
`},
		{"json, no rows", Options{From: "2026-10-01", To: "2026-10-02", Format: JSON}, "[]\n"},
	} {
		var out bytes.Buffer
		if _, err := Run(ctx, db, tc.opts, &out); err != nil || out.String() != tc.want {
			t.Errorf("%s: %v\n%s\nwant\n%s", tc.name, err, out.String(), tc.want)
		}
	}

	file := filepath.Join(t.TempDir(), "counts.csv")
	var out bytes.Buffer
	w, err := Run(ctx, db, Options{To: "2026-11-01", Format: CSV, File: file}, &out)
	if err != nil || w != (Written{Rows: 2, From: "2026-11-01", To: "2026-11-01"}) || out.Len() != 0 {
		t.Fatalf("to a file: %+v, %v, stdout %q", w, err, out.String())
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("file: %v, %v; want mode 0644", fi, err)
	}
}

// TestRunGroupsByWeekAndMonth: a period's count is the sum of its released
// counts; its status is released when any day released, else its last
// day's; carried_in names only days before the period (or before --from);
// delivery is the least delivered state of its released days.
func TestRunGroupsByWeekAndMonth(t *testing.T) {
	db := sealedDB(t)
	for _, tc := range []struct {
		group tally.Group
		from  tally.Day
		want  string
	}{
		// 2026-11-01 is a Sunday: its ISO week began on 2026-10-26.
		{tally.GroupWeek, "2026-11-01", `day,platform,campaign,conversion,count,status,uncertain,carried_in,delivery
2026-10-26,meta,a,booking,6,released,0,,sent
2026-10-26,meta,b,booking,,held,0,,
2026-11-02,google,a,booking,10,released,2,,expired
2026-11-02,meta,a,booking,7,released,0,,pending
2026-11-02,meta,b,booking,9,released,0,2026-11-01,sent
2026-11-02,none,,lead,,suppressed,0,,
`},
		{tally.GroupMonth, "2026-11-01", `day,platform,campaign,conversion,count,status,uncertain,carried_in,delivery
2026-11-01,google,a,booking,10,released,2,,expired
2026-11-01,meta,a,booking,13,released,0,,pending
2026-11-01,meta,b,booking,9,released,0,,sent
2026-11-01,none,,lead,,suppressed,0,,
`},
		// Cut by --from: only the days within it are summed, and
		// carried_in names the days before it whose held counts are in
		// the sum.
		{tally.GroupMonth, "2026-11-03", `day,platform,campaign,conversion,count,status,uncertain,carried_in,delivery
2026-11-01,google,a,booking,10,released,2,,expired
2026-11-01,meta,a,booking,7,released,0,2026-11-02,pending
2026-11-01,none,,lead,,suppressed,0,2026-11-02,
`},
	} {
		var out bytes.Buffer
		if _, err := Run(context.Background(), db, Options{From: tc.from, Group: tc.group, Format: CSV}, &out); err != nil || out.String() != tc.want {
			t.Errorf("%s from %s: %v\n%s\nwant\n%s", tc.group, tc.from, err, out.String(), tc.want)
		}
	}
}

func TestRunWithNothingSealed(t *testing.T) {
	var out bytes.Buffer
	w, err := Run(context.Background(), storetest.Open(t), Options{Format: CSV}, &out)
	if err != nil || w != (Written{}) || out.String() != "day,platform,campaign,conversion,count,status,uncertain,carried_in,delivery\n" {
		t.Errorf("%+v, %v, %q", w, err, out.String())
	}
}

// A failed write leaves the file it would have replaced as it was, and no
// temporary file beside it.
func TestWriteFileAtomicLeavesNothingHalfWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "counts.csv")
	if err := os.WriteFile(path, []byte("before\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := writeFileAtomic(path, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "before\n" {
		t.Errorf("file: %q, %v", b, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %v, want only counts.csv", entries)
	}
}
