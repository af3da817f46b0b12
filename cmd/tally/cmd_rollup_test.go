package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// rollupFixture is a database and config with k = 11, carry 1 day, and:
// 2026-11-01: meta/a/booking 12, meta/b/booking 3, none//lead 2;
// 2026-11-02: meta/b/booking 9.
func rollupFixture(t *testing.T) (cfgPath, dbPath string) {
	t.Helper()
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "tally.db")
	cfgPath = filepath.Join(dir, "tally.toml")
	cfg := fmt.Sprintf("[store]\npath = %q\nkey_file = %q\n[privacy]\ncarry_days = 1\n", dbPath, filepath.Join(dir, "tally.key"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var evs []storetest.Event
	add := func(day tally.Day, platform tally.Platform, campaign, conversion string, n int) {
		for i := range n {
			id := fmt.Sprintf("%s/%s/%s/%d", day, platform, campaign, i)
			evs = append(evs, storetest.Event{
				Cell:     tally.Cell{Day: day, Platform: platform, Campaign: campaign, Conversion: conversion},
				EventKey: []byte("e" + id), VisitorKey: []byte("v" + id)})
		}
	}
	add("2026-11-01", "meta", "a", "booking", 12)
	add("2026-11-01", "meta", "b", "booking", 3)
	add("2026-11-01", "none", "", "lead", 2)
	add("2026-11-02", "meta", "b", "booking", 9)
	storetest.WriteEvents(t, db, evs...)
	return cfgPath, dbPath
}

func TestRollupCommand(t *testing.T) {
	setWallClock(t, "2026-12-31T00:00:00Z") // the last step's --now is ahead of the real date
	cfg, _ := rollupFixture(t)
	steps := []struct {
		args []string
		code int
		want []string // substrings of stdout (exit 0) or stderr
	}{
		{[]string{"--now", "2026-11-02T02:59:59Z"}, 0, []string{"nothing to seal: every day up to 2026-10-31"}},
		{[]string{"--date", "2026-11-02", "--now", "2026-11-03T02:59:59Z"}, 2, []string{"2026-11-02: not due until 2026-11-03T03:00:00.000Z"}},
		{[]string{"--date", "2026-11-02", "--now", "2026-11-03T03:00:00Z"}, 2, []string{"2026-11-01: earlier day not sealed"}},
		{[]string{"--now", "2026-11-03T03:00:00Z"}, 0, []string{
			"sealed 2026-11-01: 17 events in 3 cells: 1 released (12 conversions), 2 held (5 carried to 2026-11-02), 0 suppressed\n",
			"sealed 2026-11-02: 9 events in 2 cells: 1 released (12 conversions), 0 held, 1 suppressed\n"}},
		{[]string{"--now", "2026-11-03T03:00:00Z"}, 0, []string{"nothing to seal"}},
		{[]string{"--date", "2026-11-01", "--now", "2026-11-03T03:00:00Z"}, 0, []string{"2026-11-01 already sealed at 2026-11-03T03:00:00.000Z; nothing changed"}},
		{[]string{"--from", "2026-11-01", "--to", "2026-11-02", "--now", "2026-11-04T03:00:00Z"}, 0, []string{
			"2026-11-01 already sealed", "2026-11-02 already sealed"}},
		// Retention (35 days by default): both days' events go, the counts stay.
		{[]string{"--now", "2026-12-08T12:00:00Z"}, 0, []string{"sealed 2026-11-03: no events\n", "purged 26 events of 2 sealed days before 2026-11-03"}},
		{[]string{"--date", "2026-11-40"}, 2, []string{`--date: bad day "2026-11-40"`}},
		{[]string{"--date", "2026-11-01", "--from", "2026-11-01"}, 2, []string{"exclude each other"}},
		{[]string{"--from", "2026-11-01"}, 2, []string{"--from and --to go together"}},
	}
	for _, s := range steps {
		code, stdout, stderr := runTally(t, append([]string{"rollup", "--config", cfg}, s.args...)...)
		got := stdout
		if s.code != 0 {
			got = stderr
		}
		if code != s.code {
			t.Errorf("rollup %v: exit %d, want %d\nstdout: %s\nstderr: %s", s.args, code, s.code, stdout, stderr)
			continue
		}
		for _, w := range s.want {
			if !strings.Contains(got, w) {
				t.Errorf("rollup %v: output lacks %q:\n%s", s.args, w, got)
			}
		}
	}
}
