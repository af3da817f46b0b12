// Package sqlfile opens a tally database file the way an auditor does with
// sqlite3: a connection of its own, apart from the store's, which are not
// exported. Tests read rows with it, and the few that must edit a row (to
// prove the edit is caught) write with it.
package sqlfile

import (
	"database/sql"
	"net/url"
	"testing"

	_ "modernc.org/sqlite" // the pure-Go driver the store uses
)

// Open opens the file at path and closes the connection when the test ends.
func Open(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	c, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Blobs returns the first column of every row query returns, as bytes
// (keys and hashes are stored as BLOBs).
func Blobs(tb testing.TB, q *sql.DB, query string) [][]byte {
	tb.Helper()
	rows, err := q.Query(query)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// All reads every row of rows (and closes it) as the column names and one
// []any of driver values per row, for tests that print or compare whole
// rows whatever their columns.
func All(tb testing.TB, rows *sql.Rows) (cols []string, all [][]any) {
	tb.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		all = append(all, vals)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return cols, all
}
