package store

import "database/sql"

// Readers returns db's own reader pool, for the store's tests of how a
// read-only open behaves; other packages' tests open the file with
// internal/sqlfile instead.
func Readers(db *DB) *sql.DB { return db.r }

// Writer returns db's own writer connection (the reader pool of a
// read-only open), for the same tests.
func Writer(db *DB) *sql.DB { return db.w }
