package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"time"

	_ "modernc.org/sqlite"
)

// insertCeiling measures plain inserts, 1000 per transaction, into a table
// shaped like events (same driver, same pragmas) for about d, in rows/s.
func insertCeiling(ctx context.Context, path string, d time.Duration) (float64, error) {
	// The same pragmas as tally's writer connection (store/store.go).
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)"+
		"&_pragma=foreign_keys(ON)&_pragma=secure_delete(FAST)&_pragma=cache_size(-65536)&_txlock=immediate")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Shaped like tally's events table (store/migrations/0001_intake.sql).
	if _, err := db.ExecContext(ctx, `CREATE TABLE events (day TEXT NOT NULL, platform TEXT NOT NULL,
		campaign TEXT NOT NULL DEFAULT '', conversion TEXT NOT NULL, dedup_key BLOB NOT NULL UNIQUE,
		PRIMARY KEY (day, platform, campaign, conversion, dedup_key)) WITHOUT ROWID`); err != nil {
		return 0, err
	}
	key := func() []byte {
		b := make([]byte, 16)
		rand.Read(b)
		return b
	}
	rows := 0
	start := time.Now()
	for time.Since(start) < d {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (day, platform, campaign, conversion, dedup_key) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, err
		}
		for i := 0; i < 1000; i++ {
			if _, err := stmt.ExecContext(ctx, "2026-11-27", "meta", fmt.Sprintf("c%d", i%50), "booking", key()); err != nil {
				return 0, err
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			return 0, err
		}
		rows += 1000
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}
