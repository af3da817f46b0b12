// Package storetest opens real SQLite files for tests.
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Open opens a fresh database file in a temporary folder and closes it when
// the test ends.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "tally.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// WriteEvents commits intake writes as if every visitor had consented long
// before: tests that only need stored events use it instead of building
// consent histories. Events without a time get one after that grant.
func WriteEvents(tb testing.TB, db *store.DB, writes ...*store.IntakeWrite) {
	tb.Helper()
	grantAt := time.Unix(0, 0).UTC()
	seen := map[string]bool{}
	var grants []store.Consent
	for _, w := range writes {
		for _, ev := range w.Events {
			if ev.At.IsZero() {
				ev.At = grantAt.Add(time.Second)
			}
			if k := string(ev.VisitorKey); !seen[k] {
				seen[k] = true
				grants = append(grants, store.Consent{VisitorKey: ev.VisitorKey, Purpose: testPurpose, Granted: true, Time: grantAt})
			}
		}
	}
	ctx := context.Background()
	if err := db.AddConsents(ctx, grants, grantAt); err != nil {
		tb.Fatal(err)
	}
	rule := store.ConsentRule{Purpose: testPurpose, MaxAge: 100 * 365 * 24 * time.Hour}
	if err := db.WriteIntake(ctx, rule, writes); err != nil {
		tb.Fatal(err)
	}
}

const testPurpose = "advertising"

// ReleaseAll is a trivial release gate for store.SealDay: every cell
// released as counted.
func ReleaseAll(_ context.Context, in store.SealInput) ([]store.DailyCount, error) {
	var out []store.DailyCount
	for _, c := range in.Raw {
		out = append(out, store.DailyCount{Cell: tally.Cell{Platform: c.Platform, Campaign: c.Campaign, Conversion: c.Conversion},
			RawCount: c.Raw, Total: c.Raw, ReleasedCount: c.Raw, Status: tally.Released,
			Gate: tally.GateParams{MinCount: 1, SmallCounts: tally.Carry, Noise: tally.NoNoise, Epsilon: 1}})
	}
	return out, nil
}

// DirState is a folder's file names, modes, sizes and modification times,
// one line each in name order: equal states before and after a command
// show that it created, removed and wrote nothing there.
func DirState(tb testing.TB, dir string) string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range es {
		fi, err := e.Info()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %v %d %s", e.Name(), fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano)))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
