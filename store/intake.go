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

// NewEvent is an event that passed the checks that need no database
// (required fields, GPC) and now needs the stateful ones inside the write
// transaction: consent first, then late, duplicate and over_bound.
type NewEvent struct {
	tally.Cell
	// DedupKey is the keyed hash of the client's event_id under the
	// permanent key. It is never stored: the writer keys it again with the
	// day's salt (see dedupKey), so once the day is sealed a stored key can
	// no longer be matched to an event id, even by whoever holds the key.
	DedupKey []byte
	// VisitorKey is the keyed hash of the visitor id. It is never stored:
	// it looks up consent and feeds the per-day salted contribution key.
	VisitorKey []byte
	// At is the event time; consent must hold at that instant.
	At time.Time
	// Pending, when set, is the drop reason of a later pipeline check
	// (unmapped_event, bad_campaign, future, too_old) that applies only if
	// consent holds: consent is checked first and names the outcome first.
	Pending tally.Reason
	// Outcome and Reason are set by WriteIntake.
	Outcome tally.Outcome
	Reason  tally.Reason
}

// ConsentRule is what makes a consent record valid for an event.
type ConsentRule struct {
	Purpose string
	MaxAge  time.Duration
	// MaxCellsPerDay, when > 0, is intake.max_cells_per_day: an event that
	// would open a cell beyond it is dropped as cell_limit.
	MaxCellsPerDay int
}

// IntakeWrite is one acknowledged unit (an HTTP request or a file chunk):
// its candidate events and the drops already decided without the database.
type IntakeWrite struct {
	Events []*NewEvent
	Drops  map[OutcomeKey]int
}

// WriteIntake commits several IntakeWrites in one transaction (group commit),
// deciding each event's outcome and counting every outcome. On error nothing
// is committed and no outcome may be acknowledged.
//
// Consent is looked up on the writer's own connection, inside the same
// transaction as the insert: its page cache stays warm across commits, and
// a withdrawal committed before the transaction always wins.
func (db *DB) WriteIntake(ctx context.Context, rule ConsentRule, writes []*IntakeWrite) (err error) {
	defer func() {
		if err != nil {
			// The connection may be replaced after an error, and a new
			// connection's data_version says nothing about the cache.
			db.consents.reset()
		}
	}()
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: intake: begin: %w", err)
	}
	defer tx.Rollback()
	w := intakeTx{ctx: ctx, tx: tx, days: map[tally.Day]*dayState{}, counts: map[OutcomeKey]int{}, cells: map[tally.Cell]int64{}, s: &db.stmts, rule: rule}
	w.limit = newCellLimit(rule.MaxCellsPerDay)
	defer w.close()
	w.insert = tx.StmtContext(ctx, db.stmts.insertEvent)
	w.dedup = tx.StmtContext(ctx, db.stmts.dedup)
	w.consentHist = tx.StmtContext(ctx, db.stmts.consentHist)
	w.cache = db.consents
	if err := w.cache.sync(ctx, tx, db.stmts.dataVersion); err != nil {
		return err
	}
	for _, iw := range writes {
		for k, n := range iw.Drops {
			w.counts[k] += n
		}
		for _, ev := range iw.Events {
			if err := w.write(ev); err != nil {
				return err
			}
			w.counts[OutcomeKey{ev.Day, ev.Outcome, ev.Reason}]++
		}
	}
	if err := w.flushCounts(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: intake: commit: %w", err)
	}
	return nil
}

type dayState struct {
	salt   []byte
	sealed bool
	mac    hash.Hash // HMAC keyed with salt, reused for every event of the day
	// contrib inserts into the day's contribution table.
	contrib *sql.Stmt
}

type intakeTx struct {
	ctx    context.Context
	tx     *sql.Tx
	days   map[tally.Day]*dayState
	counts map[OutcomeKey]int
	cells  map[tally.Cell]int64 // accepted events per cell, added to cell_counts at commit
	s      *hotStmts
	rule   ConsentRule
	// Per-event statements bound to the transaction once, not per event.
	insert, dedup, consentHist *sql.Stmt
	cache                      *consentCache
	limit                      cellLimit
}

func (w *intakeTx) close() {
	for _, st := range w.days {
		if st.contrib != nil {
			st.contrib.Close()
		}
	}
}

// day returns the day's salt and sealed state, creating the day (with a
// fresh random salt and its contribution table) the first time it sees an
// event. A day on or before the latest sealed day counts as sealed: the
// rollup seals days in order, so such a day can never be rolled up.
func (w *intakeTx) day(day tally.Day) (*dayState, error) {
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
	if _, err := w.tx.StmtContext(w.ctx, w.s.dayInsert).ExecContext(w.ctx, day, salt); err != nil {
		return nil, fmt.Errorf("store: intake: create day: %w", err)
	}
	st := &dayState{}
	if err := w.tx.StmtContext(w.ctx, w.s.daySelect).QueryRowContext(w.ctx, day).Scan(&st.salt, &st.sealed); err != nil {
		return nil, fmt.Errorf("store: intake: read day: %w", err)
	}
	if !st.sealed && st.salt != nil {
		if _, err := w.tx.ExecContext(w.ctx, `CREATE TABLE IF NOT EXISTS `+table+` (key BLOB PRIMARY KEY) WITHOUT ROWID`); err != nil {
			return nil, fmt.Errorf("store: intake: create %s: %w", table, err)
		}
		if st.contrib, err = w.tx.PrepareContext(w.ctx, `INSERT INTO `+table+` (key) VALUES (?) ON CONFLICT DO NOTHING`); err != nil {
			return nil, fmt.Errorf("store: intake: prepare %s: %w", table, err)
		}
	}
	w.days[day] = st
	return st, nil
}

// write decides one event: consent, then late, cell_limit, duplicate,
// over_bound.
func (w *intakeTx) write(ev *NewEvent) error {
	ok, err := w.consented(ev)
	if err != nil {
		return err
	}
	if !ok {
		ev.Outcome, ev.Reason = tally.Dropped, tally.ReasonNoConsent
		return nil
	}
	if ev.Pending != tally.ReasonNone {
		ev.Outcome, ev.Reason = tally.Dropped, ev.Pending
		return nil
	}
	st, err := w.day(ev.Day)
	if err != nil {
		return err
	}
	if st.sealed || st.salt == nil {
		ev.Outcome, ev.Reason = tally.Dropped, tally.ReasonLate
		return nil
	}
	if limited, err := w.cellLimited(ev); err != nil || limited {
		ev.Outcome, ev.Reason = tally.Dropped, tally.ReasonCellLimit
		return err
	}
	if st.mac == nil {
		st.mac = hmac.New(sha256.New, st.salt)
	}
	dedup := dedupKey(st.mac, ev.DedupKey)
	key := contributionKey(st.mac, ev.VisitorKey, ev.Cell)
	res, err := st.contrib.ExecContext(w.ctx, key)
	if err != nil {
		return fmt.Errorf("store: intake: contribution: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// The visitor already counts in this cell. A resent event of
		// theirs is a duplicate, anything else is over the bound.
		dup, err := w.isDuplicate(dedup)
		if err != nil {
			return err
		}
		ev.Outcome, ev.Reason = tally.Dropped, tally.ReasonOverBound
		if dup {
			ev.Outcome, ev.Reason = tally.Duplicate, tally.ReasonNone
		}
		return nil
	}
	res, err = w.insert.ExecContext(w.ctx, ev.Day, ev.Platform, ev.Campaign, ev.Conversion, dedup)
	if err != nil {
		return fmt.Errorf("store: intake: insert event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// The event id was accepted earlier this day (for another visitor
		// or cell): a duplicate, which must not hold this visitor's place.
		table, _ := ContribTable(ev.Day)
		if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM `+table+` WHERE key = ?`, key); err != nil {
			return fmt.Errorf("store: intake: undo contribution: %w", err)
		}
		ev.Outcome, ev.Reason = tally.Duplicate, tally.ReasonNone
		return nil
	}
	ev.Outcome, ev.Reason = tally.Accepted, tally.ReasonNone
	w.cells[ev.Cell]++
	w.limit.opened(ev.Cell)
	return nil
}

func (w *intakeTx) isDuplicate(dedup []byte) (bool, error) {
	var dup bool
	if err := w.dedup.QueryRowContext(w.ctx, dedup).Scan(&dup); err != nil {
		return false, fmt.Errorf("store: intake: dedup: %w", err)
	}
	return dup, nil
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

// consented reports whether the visitor's latest record at or before the
// event is a grant no older than the rule's MaxAge. No record means no.
func (w *intakeTx) consented(ev *NewEvent) (bool, error) {
	rec, ok, err := w.cache.latest(ev.VisitorKey, w.rule.Purpose, ev.At, func() ([]consentRec, error) {
		return loadHistory(w.ctx, w.consentHist, ev.VisitorKey, w.rule.Purpose)
	})
	if err != nil || !ok || !rec.granted {
		return false, err
	}
	at, err := ParseTime(rec.at)
	if err != nil {
		return false, fmt.Errorf("store: consent: bad time %q: %w", rec.at, err)
	}
	return ev.At.Sub(at) <= w.rule.MaxAge, nil
}

func (w *intakeTx) flushCounts() error {
	cells := w.tx.StmtContext(w.ctx, w.s.cellCount)
	for c, n := range w.cells {
		if _, err := cells.ExecContext(w.ctx, c.Day, c.Platform, c.Campaign, c.Conversion, n); err != nil {
			return fmt.Errorf("store: intake: count cell: %w", err)
		}
	}
	if len(w.counts) == 0 {
		return nil
	}
	stmt := w.tx.StmtContext(w.ctx, w.s.outcome)
	for k, n := range w.counts {
		if n == 0 {
			continue
		}
		if _, err := stmt.ExecContext(w.ctx, k.Day, k.Outcome, k.Reason, n); err != nil {
			return fmt.Errorf("store: intake: count outcome: %w", err)
		}
	}
	return nil
}

// contributionKey is the per-day salted hash that enforces "one visitor
// counts at most once per cell" (m is an HMAC keyed with the day's salt).
// Without the salt, deleted at seal, it cannot be recomputed or linked to
// anything.
func contributionKey(m hash.Hash, visitorKey []byte, c tally.Cell) []byte {
	m.Reset()
	m.Write(visitorKey)
	for _, s := range []string{string(c.Platform), c.Campaign, c.Conversion} {
		m.Write([]byte{0})
		m.Write([]byte(s))
	}
	return m.Sum(nil)[:KeyLen]
}

// dedupKey is the stored dedup_key of an event: its event id hash keyed
// again with the day's salt (m is an HMAC keyed with it). Within the open
// day the same event id always gives the same key, so a resent event is a
// duplicate; the same event id on another day gives another key and is
// not. Once the salt is deleted at seal, nobody can recompute it from an
// event id (a booking reference), so a stored event cannot be tied to one.
func dedupKey(m hash.Hash, eventKey []byte) []byte {
	m.Reset()
	m.Write([]byte("event_id"))
	m.Write([]byte{0})
	m.Write(eventKey)
	return m.Sum(nil)[:KeyLen]
}

// OutcomeCounts returns intake_outcomes for one day.
func (db *DB) OutcomeCounts(ctx context.Context, day tally.Day) (map[OutcomeKey]int, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT outcome, reason, count FROM intake_outcomes WHERE day = ?`, day)
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
