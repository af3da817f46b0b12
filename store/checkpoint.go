package store

import (
	"context"
	"fmt"
	"time"
)

// A TRUNCATE checkpoint holds the write lock while it waits for readers
// on older snapshots, so every writer (intake in `tally serve` too) waits
// with it. One attempt therefore waits only scrubBusyMS; between attempts
// the lock is free and intake goes on.
const (
	scrubBusyMS     = 100
	scrubBackoffMin = 20 * time.Millisecond
	scrubBackoffMax = 2 * time.Second
)

// ScrubWAL copies every page of the WAL into the database file and
// truncates the WAL to zero bytes. Sealing a day deletes its salt and
// contribution keys (zeroed in place by secure_delete), but the WAL still
// holds the pages as they were before, and a process that keeps the
// database open (`tally serve`) keeps the WAL from being removed: only
// this checkpoint takes those copies out of the files.
//
// A reader on an older snapshot or another writer makes an attempt fail;
// ScrubWAL then retries with a growing pause until it succeeds or ctx
// ends. onBusy, when set, is called after each failed attempt (a caller
// can report a long wait).
func (db *DB) ScrubWAL(ctx context.Context, onBusy func(attempt int)) error {
	wait := scrubBackoffMin
	for attempt := 1; ; attempt++ {
		done, err := db.checkpointTruncate(ctx)
		if err != nil {
			return fmt.Errorf("store: scrub WAL of %s: %w", db.Path, err)
		}
		if done {
			return nil
		}
		if onBusy != nil {
			onBusy(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("store: scrub WAL of %s: still in use by another connection after %d attempts: %w",
				db.Path, attempt, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, scrubBackoffMax)
	}
}

// checkpointTruncate makes one attempt on the writer connection with a
// short busy timeout, restored before the connection goes back to the pool.
func (db *DB) checkpointTruncate(ctx context.Context) (done bool, err error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", scrubBusyMS)); err != nil {
		return false, err
	}
	defer func() {
		_, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS))
		if rerr != nil && err == nil {
			err = fmt.Errorf("restore busy_timeout: %w", rerr)
		}
	}()
	// busy is 1 when the checkpoint could not finish: SQLite reports
	// SQLITE_BUSY as a result row, not as an error.
	var busy, walFrames, checkpointed int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &walFrames, &checkpointed); err != nil {
		return false, err
	}
	return busy == 0, nil
}
