package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// checkpointer runs PASSIVE WAL checkpoints on a connection of its own.
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
}

func (db *DB) startCheckpointer(path string, opt Options) error {
	c, err := sql.Open("sqlite", dsn(path, opt.Synchronous, connCheckpointer, true))
	if err != nil {
		return fmt.Errorf("store: open checkpointer: %w", err)
	}
	c.SetMaxOpenConns(1)
	db.ckpt = &checkpointer{db: c, stop: make(chan struct{}), done: make(chan struct{})}
	go db.ckpt.loop(opt.CheckpointEvery)
	return nil
}

func (c *checkpointer) loop(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// PASSIVE copies what it can without waiting for, or blocking,
			// the writer; a busy moment is simply retried next tick.
			_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// stopCheckpointer ends the loop and closes its connection. Closing the
// writer afterwards runs SQLite's final checkpoint.
func (db *DB) stopCheckpointer() {
	if db.ckpt == nil {
		return
	}
	close(db.ckpt.stop)
	<-db.ckpt.done
	db.ckpt.db.Close()
	db.ckpt = nil
}
