package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// openPair opens one database file twice: db seals, other stands for a
// `tally serve` that keeps the file (and so its WAL) open throughout.
func openPair(t *testing.T) (db, other *store.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tally.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return db, other
}

// fileBytes is the database file and its WAL, raw.
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(append(all, b...), make([]byte, 64)...)
	}
	return all
}

// TestSealAndScrubLeaveNoKeyInFile seals a day of 3000 contributions
// (their table spans many pages, which the seal frees) while another
// connection holds the file, then scrubs: neither the file nor its WAL
// holds the salt or any contribution key.
func TestSealAndScrubLeaveNoKeyInFile(t *testing.T) {
	ctx := context.Background()
	db, other := openPair(t)
	day := tally.Day("2026-11-20")
	addCell(t, db, tally.Cell{Day: day, Platform: "meta", Campaign: "a", Conversion: "booking"}, 3000)
	addCell(t, other, tally.Cell{Day: "2026-11-21", Platform: "meta", Campaign: "a", Conversion: "booking"}, 1)

	var salt []byte
	if err := sqlfile.Open(t, db.Path).QueryRowContext(ctx, `SELECT salt FROM days WHERE day = ?`, day).Scan(&salt); err != nil || salt == nil {
		t.Fatalf("salt: %x %v", salt, err)
	}
	keys := sqlfile.Blobs(t, sqlfile.Open(t, db.Path), `SELECT key FROM contrib_20261120`)
	if len(keys) != 3000 {
		t.Fatalf("%d contribution keys, want 3000", len(keys))
	}
	if !bytes.Contains(fileBytes(t, db.Path), salt) {
		t.Fatal("salt not in the files before the seal: the test would prove nothing")
	}
	if _, err := db.SealDay(ctx, day, time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC), nil, releaseAll); err != nil {
		t.Fatal(err)
	}
	if err := db.ScrubWAL(ctx, nil); err != nil {
		t.Fatal(err)
	}
	files := fileBytes(t, db.Path)
	if bytes.Contains(files, salt) {
		t.Error("PRIVACY LEAK: the sealed day's salt is still in the file or its WAL")
	}
	found := 0
	for _, k := range keys {
		if bytes.Contains(files, k) {
			found++
		}
	}
	if found > 0 {
		t.Errorf("PRIVACY LEAK: %d of %d contribution keys of the sealed day are still in the file or its WAL", found, len(keys))
	}
	if fi, err := os.Stat(db.Path + "-wal"); err != nil || fi.Size() != 0 {
		t.Errorf("WAL after scrub: %v %v, want 0 bytes", fi.Size(), err)
	}
}

// TestScrubWaitsForReaderWithoutStoppingIntake holds a read transaction on
// an old snapshot in another connection: the scrub cannot truncate the WAL
// and retries, intake commits meanwhile, and once the reader lets go the
// scrub ends with an empty WAL.
func TestScrubWaitsForReaderWithoutStoppingIntake(t *testing.T) {
	ctx := context.Background()
	db, other := openPair(t)
	cell := tally.Cell{Day: "2026-11-20", Platform: "meta", Campaign: "a", Conversion: "booking"}
	addCell(t, db, cell, 10)
	reader := holdSnapshot(t, other)

	busy := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		done <- db.ScrubWAL(ctx, func(attempt int) {
			select {
			case busy <- attempt:
			default:
			}
		})
	}()
	<-busy
	// Intake is not starved while the scrub waits.
	addCell(t, db, tally.Cell{Day: "2026-11-20", Platform: "meta", Campaign: "b", Conversion: "booking"}, 5)
	select {
	case err := <-done:
		t.Fatalf("scrub ended while a reader held an old snapshot: %v", err)
	default:
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(db.Path + "-wal"); err != nil || fi.Size() != 0 {
		t.Errorf("WAL after scrub: %v %v, want 0 bytes", fi.Size(), err)
	}
}

// TestScrubStopsWithContext: a reader that never lets go cannot hang the
// caller; the scrub fails once ctx ends.
func TestScrubStopsWithContext(t *testing.T) {
	db, other := openPair(t)
	addCell(t, db, tally.Cell{Day: "2026-11-20", Platform: "meta", Campaign: "a", Conversion: "booking"}, 10)
	reader := holdSnapshot(t, other)
	defer reader.Rollback()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := db.ScrubWAL(ctx, func(attempt int) {
		if attempt == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// holdSnapshot starts a read transaction on db's readers and keeps it.
func holdSnapshot(t *testing.T, db *store.DB) *sql.Tx {
	t.Helper()
	tx, err := sqlfile.Open(t, db.Path).BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("reader: %d events, %v", n, err)
	}
	return tx
}
