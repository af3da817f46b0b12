package store_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

const benchDay = "2026-11-20"

// fillBench writes a database with 1,000,000 events on benchDay spread over
// 500 campaigns (platform fixed per campaign, two conversions: 1,000 cells)
// and returns its path. scripts/bench-rollup.sh fills the same rows.
func fillBench(b *testing.B) string {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "template.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	raw := sqlfile.Open(b, db.Path)
	for _, q := range []string{
		`INSERT INTO days (day, salt) VALUES ('` + benchDay + `', randomblob(32))`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
		INSERT INTO events (day, platform, campaign, conversion, dedup_key)
		SELECT '` + benchDay + `',
		       CASE (i % 500) % 5 WHEN 0 THEN 'meta' WHEN 1 THEN 'google' WHEN 2 THEN 'tiktok' WHEN 3 THEN 'linkedin' ELSE 'none' END,
		       'campaign_' || (i % 500), CASE (i / 500) % 2 WHEN 0 THEN 'booking' ELSE 'lead' END,
		       randomblob(16)
		FROM n`,
		`CREATE TABLE contrib_` + strings.ReplaceAll(benchDay, "-", "") + ` (key BLOB PRIMARY KEY) WITHOUT ROWID`,
		`INSERT INTO contrib_` + strings.ReplaceAll(benchDay, "-", "") + ` SELECT randomblob(16) FROM events`,
		// What intake keeps beside the events it accepts.
		`INSERT INTO cell_counts SELECT day, platform, campaign, conversion, count(*) FROM events GROUP BY 1, 2, 3, 4`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	return path
}

func copyFile(b *testing.B, src, dst string) {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCellCounts times the rollup's read: the GROUP BY of one day of
// 1,000,000 events, the part to compare with the sqlite3 shell.
func BenchmarkCellCounts(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, fillBench(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for b.Loop() {
		cells, err := db.CellCounts(ctx, benchDay)
		if err != nil || len(cells) != 1000 {
			b.Fatalf("%d cells, %v", len(cells), err)
		}
	}
}

// BenchmarkSealDay times sealing one day of 1,000,000 events: the GROUP BY,
// writing 1,000 daily_counts rows, and nulling 1,000,000 contribution
// hashes (the dominant cost). Each iteration seals a fresh copy.
func BenchmarkSealDay(b *testing.B) {
	ctx := context.Background()
	template := fillBench(b)
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "run.db")
		copyFile(b, template, path)
		db, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := db.SealDay(ctx, benchDay, now, nil, releaseAll)
		if err != nil || res.KeysDeleted != 1_000_000 {
			b.Fatalf("%+v, %v", res.KeysDeleted, err)
		}
		b.StopTimer()
		db.Close()
		os.Remove(path)
		b.StartTimer()
	}
}
