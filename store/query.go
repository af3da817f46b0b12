package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// querier is what read helpers need: a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAll runs query on q and scans every row into a T with scan. The
// caller wraps the error with its operation.
func queryAll[T any](ctx context.Context, q querier, scan func(*sql.Rows, *T) error, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// foundAt reads what a one-row query's Scan returned: ok is false when the
// query found no row (err nil) or failed (err names op). The row's TEXT
// time at is parsed into *t.
func foundAt(op string, err error, at string, t *time.Time) (ok bool, _ error) {
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if *t, err = ParseTime(at); err != nil {
		return false, fmt.Errorf("%s: bad time %q: %w", op, at, err)
	}
	return true, nil
}

// scanCellCount scans (platform, campaign, conversion, count).
func scanCellCount(rows *sql.Rows, c *CellCount) error {
	return rows.Scan(&c.Platform, &c.Campaign, &c.Conversion, &c.Raw)
}

// inTx runs fn in one transaction on the writer connection and commits it
// when fn returns nil; op names the operation in the begin and commit
// errors (fn wraps its own).
func (db *DB) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	return nil
}
