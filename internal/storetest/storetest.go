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
	"github.com/tally-health/tally/intake"
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

// Grant records that visitorKey granted the test purpose ("advertising")
// at at, received at the same instant.
func Grant(tb testing.TB, db *store.DB, visitorKey []byte, at time.Time) {
	tb.Helper()
	if err := db.AddConsents(context.Background(), []store.Consent{{VisitorKey: visitorKey, Purpose: testPurpose, Granted: true, Time: at}}, at); err != nil {
		tb.Fatal(err)
	}
}

// Event is one event for WriteEvents: its cell and the permanent-key
// hashes of its event id and visitor.
type Event struct {
	tally.Cell
	EventKey, VisitorKey []byte
	// At is the event time; zero is just after the visitor's grant.
	At time.Time
}

// WriteEvents sends events through the intake writer in one unit, as if
// every visitor had consented long before: tests that only need stored
// events use it instead of building consent histories. Each event is
// decided as intake decides it (a repeated event id is a duplicate, a
// visitor counts once per cell), with no bound on cells per day. It
// returns how many events got each decision.
func WriteEvents(tb testing.TB, db *store.DB, events ...Event) map[tally.Decision]int {
	tb.Helper()
	grantAt := time.Unix(0, 0).UTC()
	seen := map[string]bool{}
	var grants []store.Consent
	iw := &intake.Write{}
	for _, ev := range events {
		if ev.At.IsZero() {
			ev.At = grantAt.Add(time.Second)
		}
		if k := string(ev.VisitorKey); !seen[k] {
			seen[k] = true
			grants = append(grants, store.Consent{VisitorKey: ev.VisitorKey, Purpose: testPurpose, Granted: true, Time: grantAt})
		}
		iw.Candidates = append(iw.Candidates, intake.Candidate{Day: ev.Day, At: ev.At, Cell: ev.Cell, EventKey: ev.EventKey, VisitorKey: ev.VisitorKey})
	}
	ctx := context.Background()
	if err := db.AddConsents(ctx, grants, grantAt); err != nil {
		tb.Fatal(err)
	}
	w := intake.NewWriter(db, intake.Rules{ConsentPurpose: testPurpose, MaxConsentAge: 100 * 365 * 24 * time.Hour}, intake.WriterOptions{})
	defer w.Close()
	counts, err := w.SubmitWait(ctx, iw)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[tally.Decision]int{}
	for k, n := range counts {
		out[k.Decision] += n
	}
	return out
}

const testPurpose = "advertising"

// ReleaseAll is a trivial release gate for store.SealDay: every cell
// released as counted.
func ReleaseAll(_ context.Context, in store.SealInput) ([]store.DailyCount, error) {
	var out []store.DailyCount
	for _, c := range in.Raw {
		out = append(out, store.DailyCount{Cell: tally.Cell{Platform: c.Platform, Campaign: c.Campaign, Conversion: c.Conversion},
			RawCount: c.Raw, Total: c.Raw, ReleasedCount: c.Raw, Status: tally.Released,
			Gate: tally.GateParams{MinCount: 1, SmallCounts: tally.Carry, Noise: tally.NoNoise, Epsilon: tally.Epsilon{Num: 1, Den: 1}}})
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
