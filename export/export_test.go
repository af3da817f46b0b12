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

// gate releases cells of 5 or more and holds the rest.
func gate(_ context.Context, in store.SealInput) ([]store.DailyCount, error) {
	var out []store.DailyCount
	for _, c := range in.Raw {
		r := store.DailyCount{Cell: tally.Cell{Platform: c.Platform, Campaign: c.Campaign, Conversion: c.Conversion},
			RawCount: c.Raw, Total: c.Raw, Status: tally.Held,
			Gate: tally.GateParams{MinCount: 5, SmallCounts: tally.Carry, Noise: tally.NoNoise, Epsilon: 1}}
		if c.Raw >= 5 {
			r.ReleasedCount, r.Status = c.Raw, tally.Released
		}
		out = append(out, r)
	}
	return out, nil
}

// sealedDB holds two sealed days: 2026-11-01 with meta/a/booking 6
// (released) and meta/b/booking 2 (held), 2026-11-02 with meta/b/booking 7.
func sealedDB(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.Open(t)
	var evs []storetest.Event
	add := func(day tally.Day, campaign string, n int) {
		for i := range n {
			id := fmt.Sprintf("%s/%s/%d", day, campaign, i)
			evs = append(evs, storetest.Event{
				Cell:     tally.Cell{Day: day, Platform: "meta", Campaign: campaign, Conversion: "booking"},
				EventKey: []byte("e" + id), VisitorKey: []byte("v" + id)})
		}
	}
	add("2026-11-01", "a", 6)
	add("2026-11-01", "b", 2)
	add("2026-11-02", "b", 7)
	storetest.WriteEvents(t, db, evs...)
	now := time.Date(2026, 11, 3, 3, 0, 0, 0, time.UTC)
	for _, day := range []tally.Day{"2026-11-01", "2026-11-02"} {
		if _, err := db.SealDay(context.Background(), day, now, nil, gate); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestRunWritesSealedDays(t *testing.T) {
	db := sealedDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"csv, the default days", Options{Format: CSV}, `day,platform,campaign,conversion,count,status,uncertain
2026-11-01,meta,a,booking,6,released,0
2026-11-01,meta,b,booking,,held,0
2026-11-02,meta,b,booking,7,released,0
`},
		{"json, one day", Options{From: "2026-11-01", To: "2026-11-01", Format: JSON}, `[
  {
    "day": "2026-11-01",
    "platform": "meta",
    "campaign": "a",
    "conversion": "booking",
    "count": 6,
    "status": "released",
    "uncertain": 0
  },
  {
    "day": "2026-11-01",
    "platform": "meta",
    "campaign": "b",
    "conversion": "booking",
    "count": null,
    "status": "held",
    "uncertain": 0
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

func TestRunWithNothingSealed(t *testing.T) {
	var out bytes.Buffer
	w, err := Run(context.Background(), storetest.Open(t), Options{Format: CSV}, &out)
	if err != nil || w != (Written{}) || out.String() != "day,platform,campaign,conversion,count,status,uncertain\n" {
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
