package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/tally-health/tally"
)

// KeyLen is the length of every stored keyed hash (128 bits).
const KeyLen = 16

// OutcomeKey names one intake_outcomes row.
type OutcomeKey struct {
	Day     tally.Day
	Outcome tally.Outcome
	Reason  tally.Reason
}

// WriteIntake runs fn in one write transaction (the intake's group commit)
// and commits what it wrote. On error nothing is committed and no outcome
// may be acknowledged.
//
// Consent is looked up on the writer's own connection, inside the same
// transaction as the insert: its page cache stays warm across commits, and
// a withdrawal committed before the transaction always wins.
func (db *DB) WriteIntake(ctx context.Context, fn func(*IntakeTx) error) (err error) {
	defer func() {
		if err != nil {
			// The connection may be replaced after an error, and a new
			// connection's data_version says nothing about the cache.
			db.consents.reset()
		}
	}()
	return db.inTx(ctx, "store: intake", func(tx *sql.Tx) error {
		w := &IntakeTx{tx: tx, days: map[tally.Day]*dayState{}, cells: map[tally.Cell]int64{}, s: &db.stmts, limit: newCellLimit()}
		defer w.close()
		w.insert = tx.StmtContext(ctx, db.stmts.insertEvent)
		w.dedup = tx.StmtContext(ctx, db.stmts.dedup)
		w.consentHist = tx.StmtContext(ctx, db.stmts.consentHist)
		w.outcome = tx.StmtContext(ctx, db.stmts.outcome)
		w.cache = db.consents
		if err := w.cache.sync(ctx, tx, db.stmts.dataVersion); err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		return w.flushCells(ctx)
	})
}

type dayState struct {
	salt   []byte
	sealed bool
	bound  int       // the visitor bound recorded for the day in this transaction
	mac    hash.Hash // HMAC keyed with salt, reused for every event of the day
	// contrib inserts into the day's contribution table.
	contrib *sql.Stmt
}

// open reports whether events may still be added to the day.
func (st *dayState) open() bool { return !st.sealed && st.salt != nil }

// IntakeTx is one intake transaction: the facts intake's order of checks
// asks about and the rows it writes, as SQL and nothing else. Which
// question comes first and what an answer means is intake's to decide.
//
// The day's salt never leaves the store: the methods that need it take the
// permanent-key hashes of the event id and the visitor and key them again
// here (see dedupKey and contributionKey).
type IntakeTx struct {
	tx    *sql.Tx
	days  map[tally.Day]*dayState
	cells map[tally.Cell]int64 // accepted events per cell, added to cell_counts at commit
	s     *hotStmts
	// Per-event statements bound to the transaction once, not per event.
	insert, dedup, consentHist, outcome *sql.Stmt
	cache                               *consentCache
	limit                               cellLimit
}

func (w *IntakeTx) close() {
	for _, st := range w.days {
		if st.contrib != nil {
			st.contrib.Close()
		}
	}
}

// Consent reports whether the visitor's latest record for purpose at or
// before at is a grant, and when it was made. No record is no grant.
func (w *IntakeTx) Consent(ctx context.Context, visitorKey []byte, purpose string, at time.Time) (granted bool, since time.Time, err error) {
	rec, ok, err := w.cache.latest(visitorKey, purpose, at, func() ([]consentRec, error) {
		return loadHistory(ctx, w.consentHist, visitorKey, purpose)
	})
	if err != nil || !ok || !rec.granted {
		return false, time.Time{}, err
	}
	since, err = ParseTime(rec.at)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: consent: bad time %q: %w", rec.at, err)
	}
	return true, since, nil
}

// DayOpen reports whether events may still be added to day. The first time
// it sees a day it creates it, with a fresh random salt and its
// contribution table. A day on or before the latest sealed day is closed:
// the rollup seals days in order, so such a day can never be rolled up.
func (w *IntakeTx) DayOpen(ctx context.Context, day tally.Day) (bool, error) {
	st, err := w.day(ctx, day)
	if err != nil {
		return false, err
	}
	return st.open(), nil
}

func (w *IntakeTx) day(ctx context.Context, day tally.Day) (*dayState, error) {
	if st, ok := w.days[day]; ok {
		return st, nil
	}
	table, err := ContribTable(day)
	if err != nil {
		return nil, fmt.Errorf("store: intake: %w", err)
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("store: intake: salt: %w", err)
	}
	if _, err := w.tx.StmtContext(ctx, w.s.dayInsert).ExecContext(ctx, day, salt); err != nil {
		return nil, fmt.Errorf("store: intake: create day: %w", err)
	}
	st := &dayState{}
	if err := w.tx.StmtContext(ctx, w.s.daySelect).QueryRowContext(ctx, day).Scan(&st.salt, &st.sealed); err != nil {
		return nil, fmt.Errorf("store: intake: read day: %w", err)
	}
	if st.open() {
		if _, err := w.tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (key BLOB PRIMARY KEY) WITHOUT ROWID`); err != nil {
			return nil, fmt.Errorf("store: intake: create %s: %w", table, err)
		}
		if st.contrib, err = w.tx.PrepareContext(ctx, `INSERT INTO `+table+` (key) VALUES (?) ON CONFLICT DO NOTHING`); err != nil {
			return nil, fmt.Errorf("store: intake: prepare %s: %w", table, err)
		}
		st.mac = hmac.New(sha256.New, st.salt)
	}
	w.days[day] = st
	return st, nil
}

// Count adds n events decided d on day to intake_outcomes.
func (w *IntakeTx) Count(ctx context.Context, day tally.Day, d tally.Decision, n int) error {
	if n == 0 {
		return nil
	}
	if _, err := w.outcome.ExecContext(ctx, day, d.Outcome, d.Reason, n); err != nil {
		return fmt.Errorf("store: intake: count outcome: %w", err)
	}
	return nil
}

// flushCells adds the transaction's accepted events to cell_counts.
func (w *IntakeTx) flushCells(ctx context.Context) error {
	cells := w.tx.StmtContext(ctx, w.s.cellCount)
	for c, n := range w.cells {
		if _, err := cells.ExecContext(ctx, c.Day, c.Platform, c.Campaign, c.Conversion, n); err != nil {
			return fmt.Errorf("store: intake: count cell: %w", err)
		}
	}
	return nil
}

// ContribTable is the name of day's contribution table. day must be
// YYYY-MM-DD; anything else is refused so no input reaches the SQL text.
func ContribTable(day tally.Day) (string, error) {
	d, err := tally.ParseDay(string(day))
	if err != nil {
		return "", err
	}
	return "contrib_" + strings.ReplaceAll(string(d), "-", ""), nil
}

// OutcomeCounts returns intake_outcomes for one day.
func (db *DB) OutcomeCounts(ctx context.Context, day tally.Day) (map[OutcomeKey]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT outcome, reason, count FROM intake_outcomes WHERE day = ?`, day)
	if err != nil {
		return nil, fmt.Errorf("store: outcome counts: %w", err)
	}
	defer rows.Close()
	out := map[OutcomeKey]int{}
	for rows.Next() {
		k := OutcomeKey{Day: day}
		var n int
		if err := rows.Scan(&k.Outcome, &k.Reason, &n); err != nil {
			return nil, fmt.Errorf("store: outcome counts: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}
