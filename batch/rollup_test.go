package batch_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

var seq int

// addEvents stores n accepted events (n distinct visitors) in one cell.
func addEvents(t testing.TB, db *store.DB, day tally.Day, platform tally.Platform, campaign, conversion string, n int) {
	t.Helper()
	var evs []storetest.Event
	for range n {
		seq++
		evs = append(evs, storetest.Event{
			Cell:       tally.Cell{Day: day, Platform: platform, Campaign: campaign, Conversion: conversion},
			EventKey:   fmt.Appendf(nil, "event-%d", seq),
			VisitorKey: fmt.Appendf(nil, "visitor-%d", seq),
		})
	}
	if got := storetest.WriteEvents(t, db, evs...); got[tally.Decision{Outcome: tally.Accepted}] != n {
		t.Fatalf("events for %s: %v, want %d accepted", day, got, n)
	}
}

// roller seals as of a fixed clock in UTC with close_after 3h.
func roller(db *store.DB, g batch.Gate, now string) *batch.Roller {
	t, err := time.Parse(time.RFC3339, now)
	if err != nil {
		panic(err)
	}
	return &batch.Roller{DB: db, Loc: time.UTC, CloseAfter: 3 * time.Hour, Gate: g, Now: func() time.Time { return t }}
}

// counts renders a day range's daily_counts as "day campaign status total released" lines.
func counts(t testing.TB, db *store.DB, from, to tally.Day) string {
	t.Helper()
	rows, err := db.DailyCounts(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s %s %d %d\n", r.Day, r.Campaign, r.Status, r.Total, r.ReleasedCount)
	}
	return b.String()
}

func TestRollupCarry(t *testing.T) {
	tests := []struct {
		name   string
		g      batch.Gate
		events map[string]int // day -> events in campaign c (and 20 in campaign big)
		want   string
	}{
		{"carry releases on day 2", gate(11, tally.Carry, 7), map[string]int{"2026-11-01": 6, "2026-11-02": 5},
			"2026-11-01 c held 6 0\n2026-11-02 c released 11 11\n"},
		{"carry ends suppressed after carry_days", gate(11, tally.Carry, 2), map[string]int{"2026-11-01": 2, "2026-11-02": 2, "2026-11-03": 2, "2026-11-04": 20},
			"2026-11-01 c held 2 0\n2026-11-02 c held 4 0\n2026-11-03 c suppressed 6 0\n2026-11-04 c released 20 20\n"},
		{"carry across a day with no events for the cell", gate(11, tally.Carry, 7), map[string]int{"2026-11-01": 6, "2026-11-03": 5},
			"2026-11-01 c held 6 0\n2026-11-02 c held 6 0\n2026-11-03 c released 11 11\n"},
		{"suppress mode", gate(11, tally.Suppress, 7), map[string]int{"2026-11-01": 6, "2026-11-02": 5},
			"2026-11-01 c suppressed 6 0\n2026-11-02 c suppressed 5 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t)
			for day, n := range tt.events {
				if n > 0 {
					addEvents(t, db, tally.Day(day), "meta", "c", "booking", n)
				}
			}
			addEvents(t, db, "2026-11-04", "none", "", "lead", 1) // the last day is known either way
			if _, err := roller(db, tt.g, "2026-11-05T03:00:00Z").RollupDue(ctx); err != nil {
				t.Fatal(err)
			}
			got := counts(t, db, "2026-11-01", "2026-11-04")
			got = strings.ReplaceAll(got, "2026-11-04  suppressed 1 0\n", "")
			got = strings.ReplaceAll(got, "2026-11-04  held 1 0\n", "")
			if got != tt.want {
				t.Errorf("daily_counts:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestRollupDueAndOrder(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	addEvents(t, db, "2026-11-01", "meta", "c", "booking", 12)
	addEvents(t, db, "2026-11-03", "meta", "c", "booking", 12)
	addEvents(t, db, "2026-11-05", "meta", "c", "booking", 12)

	r := roller(db, gate(11, tally.Carry, 7), "2026-11-04T02:59:59Z") // 11-03 ends 3h before 11-04T03:00Z
	due, err := r.Due(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(due) != "[2026-11-01 2026-11-02]" {
		t.Errorf("due = %v", due)
	}
	if _, err := r.RollupRange(ctx, "2026-11-03", "2026-11-03"); !errors.Is(err, batch.ErrNotDue) {
		t.Errorf("not yet due day: err = %v", err)
	}
	r = roller(db, gate(11, tally.Carry, 7), "2026-11-04T03:00:00Z")
	if _, err := r.RollupRange(ctx, "2026-11-02", "2026-11-03"); !errors.Is(err, batch.ErrOutOfOrder) || !strings.Contains(err.Error(), "2026-11-01") {
		t.Errorf("skipping 11-01: err = %v", err)
	}
	var committed []string // each day is reported as its seal commits
	r.OnSealed = func(s batch.Sealed) {
		var n int
		sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM days WHERE day = ? AND sealed_at IS NOT NULL`, s.Day).Scan(&n)
		committed = append(committed, fmt.Sprintf("%s:%d", s.Day, n))
	}
	res, err := r.RollupDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sealed []string
	for _, s := range res {
		sealed = append(sealed, fmt.Sprintf("%s:%d", s.Day, s.Events))
	}
	// The empty day 11-02 is sealed too; 11-05 is not due.
	if got := strings.Join(sealed, " "); got != "2026-11-01:12 2026-11-02:0 2026-11-03:12" {
		t.Errorf("sealed %s", got)
	}
	if got := strings.Join(committed, " "); got != "2026-11-01:1 2026-11-02:1 2026-11-03:1" {
		t.Errorf("OnSealed saw %s", got)
	}
	r.OnSealed = nil
	again, err := r.RollupRange(ctx, "2026-11-01", "2026-11-03")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range again {
		if !s.AlreadySealed || len(s.Rows) != 0 {
			t.Errorf("%s sealed again: %+v", s.Day, s)
		}
	}
	if due, _ := r.Due(ctx); len(due) != 0 {
		t.Errorf("still due: %v", due)
	}
}

// TestRollupLateDayBeforeSealed: once a day is sealed, events for any
// earlier day are late too (days are sealed in order, so such a day could
// never be rolled up), and the rollup is unchanged.
func TestRollupLateDayBeforeSealed(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	addEvents(t, db, "2026-11-10", "meta", "c", "booking", 3)
	r := roller(db, gate(11, tally.Carry, 7), "2026-11-11T03:00:00Z")
	if _, err := r.RollupDue(ctx); err != nil {
		t.Fatal(err)
	}
	early := storetest.Event{Cell: tally.Cell{Day: "2026-11-08", Platform: "meta", Campaign: "c", Conversion: "booking"},
		EventKey: []byte("early-event"), VisitorKey: []byte("early-visitor")}
	if got := storetest.WriteEvents(t, db, early); got[tally.Drop(tally.ReasonLate)] != 1 {
		t.Errorf("event before the sealed day: %v, want dropped/late", got)
	}
	if _, err := r.RollupDue(ctx); err != nil {
		t.Fatal(err)
	}
	want := "2026-11-10 c held 3 0\n"
	if got := counts(t, db, "2026-11-01", "2026-11-30"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestRollupNeverSealsBeyondTheWallClock: a clock (--now) set days ahead
// seals only the days that have ended by the system clock; the rest stay
// open (today 2036 sealed every day up to it and purged every event).
func TestRollupNeverSealsBeyondTheWallClock(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	addEvents(t, db, "2026-11-18", "google", "c", "booking", 11)
	addEvents(t, db, "2026-11-19", "google", "c", "booking", 11)
	r := roller(db, gate(11, tally.Carry, 7), "2026-11-25T00:00:00Z")
	wall := time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC) // 2026-11-19 has not ended
	r.Wall = func() time.Time { return wall }
	if last := r.LastDue(); last != "2026-11-18" {
		t.Errorf("last due day %s, want 2026-11-18", last)
	}
	if _, err := r.RollupRange(ctx, "2026-11-19", "2026-11-19"); !errors.Is(err, batch.ErrNotDue) {
		t.Errorf("sealing a day not ended by the wall clock: %v, want ErrNotDue", err)
	}
	sealed, err := r.RollupDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 1 || sealed[0].Day != "2026-11-18" {
		t.Fatalf("sealed %d days, want only 2026-11-18: %+v", len(sealed), sealed)
	}
	days, err := db.Days(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		if d.Day >= "2026-11-19" && d.SealedAt != "" {
			t.Errorf("%s sealed before it ended by the wall clock", d.Day)
		}
	}
	// Once the wall clock has passed the day's end, it is due.
	wall = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if sealed, err := r.RollupDue(ctx); err != nil || len(sealed) != 1 || sealed[0].Day != "2026-11-19" {
		t.Errorf("after the day ended: %+v %v", sealed, err)
	}
}

func TestPurgeRetention(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	for _, d := range []tally.Day{"2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"} {
		addEvents(t, db, d, "meta", "c", "booking", 2)
	}
	// 2026-11-27 stays open: its events are never purged, however old.
	if _, err := roller(db, gate(1, tally.Carry, 7), "2026-11-27T03:00:00Z").RollupDue(ctx); err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	// 2026-12-31T03:00Z is still 2026-12-30 in New York: cutoff 2026-11-25.
	now := time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC)
	p, err := batch.Purge(ctx, db, 35, ny, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cutoff != "2026-11-25" || p.Events != 2 || len(p.Days) != 1 || p.Days[0].Day != "2026-11-24" {
		t.Errorf("purge %+v", p)
	}
	p, err = batch.Purge(ctx, db, 1, time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cutoff != "2026-12-30" || p.Events != 4 || len(p.Days) != 2 {
		t.Errorf("purge %+v", p)
	}
	var left int
	sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&left)
	if left != 2 {
		t.Errorf("%d events left, want the open day's 2", left)
	}
}

// TestPruneHistory: store.ledger_retention_days and
// store.consent_retention_days count back from now.
func TestPruneHistory(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	storetest.Grant(t, db, []byte("v"), at)
	if _, err := db.BeginUploadRequest(ctx, &store.UploadRequest{Platform: "meta", Method: "POST", URL: "https://x.example/",
		Body: []byte("{}"), Attempt: 1, SentAt: at}, nil); err != nil {
		t.Fatal(err)
	}
	// 400 days after at, to the millisecond: both still kept.
	p, err := batch.PruneHistory(ctx, db, 400, 400, at.AddDate(0, 0, 400))
	if err != nil || p.Ledger.Requests != 0 || p.Consents.Visitors != 0 {
		t.Fatalf("at the limit: %+v %v, want nothing pruned", p, err)
	}
	p, err = batch.PruneHistory(ctx, db, 400, 401, at.AddDate(0, 0, 400).Add(time.Millisecond))
	if err != nil || p.Ledger.Requests != 1 || p.Consents.Visitors != 0 {
		t.Fatalf("past the ledger limit: %+v %v, want the request pruned only", p, err)
	}
	p, err = batch.PruneHistory(ctx, db, 400, 401, at.AddDate(0, 0, 402))
	if err != nil || p.Ledger.Requests != 0 || p.Consents.Visitors != 1 || p.Consents.Records != 1 {
		t.Fatalf("past the consent limit: %+v %v", p, err)
	}
}
