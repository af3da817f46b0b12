// Package storetest opens real SQLite files for tests.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

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
