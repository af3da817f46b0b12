package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/tally-health/tally"
)

// openDay is day for the methods that write into it: the day must be open.
func (w *IntakeTx) openDay(ctx context.Context, day tally.Day) (*dayState, error) {
	st, err := w.day(ctx, day)
	if err == nil && !st.open() {
		err = fmt.Errorf("store: intake: day %s is closed", day)
	}
	return st, err
}

// ClaimContribution records that the visitor counts in cell c, and reports
// whether this is the first time: a visitor counts at most once per cell.
func (w *IntakeTx) ClaimContribution(ctx context.Context, c tally.Cell, visitorKey []byte) (first bool, err error) {
	st, err := w.openDay(ctx, c.Day)
	if err != nil {
		return false, err
	}
	res, err := st.contrib.ExecContext(ctx, contributionKey(st.mac, visitorKey, c))
	if err != nil {
		return false, fmt.Errorf("store: intake: contribution: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ReleaseContribution undoes ClaimContribution.
func (w *IntakeTx) ReleaseContribution(ctx context.Context, c tally.Cell, visitorKey []byte) error {
	st, err := w.openDay(ctx, c.Day)
	if err != nil {
		return err
	}
	table, _ := ContribTable(c.Day)
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE key = ?`, contributionKey(st.mac, visitorKey, c)); err != nil {
		return fmt.Errorf("store: intake: undo contribution: %w", err)
	}
	return nil
}

// SeenEvent reports whether an event with this event id was stored on day.
func (w *IntakeTx) SeenEvent(ctx context.Context, day tally.Day, eventKey []byte) (bool, error) {
	st, err := w.openDay(ctx, day)
	if err != nil {
		return false, err
	}
	var seen bool
	if err := w.dedup.QueryRowContext(ctx, dedupKey(st.mac, eventKey)).Scan(&seen); err != nil {
		return false, fmt.Errorf("store: intake: dedup: %w", err)
	}
	return seen, nil
}

// InsertEvent stores an event in cell c and counts it in the cell, and
// reports whether it did: not when an event with this event id was stored
// on the day already.
func (w *IntakeTx) InsertEvent(ctx context.Context, c tally.Cell, eventKey []byte) (inserted bool, err error) {
	st, err := w.openDay(ctx, c.Day)
	if err != nil {
		return false, err
	}
	res, err := w.insert.ExecContext(ctx, c.Day, c.Platform, c.Campaign, c.Conversion, dedupKey(st.mac, eventKey))
	if err != nil {
		return false, fmt.Errorf("store: intake: insert event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	w.cells[c]++
	w.limit.opened(c)
	return true, nil
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

// ClaimVisitorDay counts one more cell for the visitor on day, and reports
// whether that is within max: the visitor holds one of max slots, each a
// key in the day's contribution table, dropped with it at seal.
func (w *IntakeTx) ClaimVisitorDay(ctx context.Context, day tally.Day, visitorKey []byte, max int) (ok bool, err error) {
	st, err := w.openDay(ctx, day)
	if err != nil {
		return false, err
	}
	if st.bound != max {
		// The seal's receipt states the bound: record the highest used,
		// never raising a 0 (events taken without one).
		if _, err := w.tx.ExecContext(ctx, `UPDATE days SET visitor_bound = ? WHERE day = ?
			AND (visitor_bound IS NULL OR (visitor_bound > 0 AND visitor_bound < ?))`, max, day, max); err != nil {
			return false, fmt.Errorf("store: intake: record the visitor bound: %w", err)
		}
		st.bound = max
	}
	for slot := range max {
		res, err := st.contrib.ExecContext(ctx, visitorDayKey(st.mac, visitorKey, slot))
		if err != nil {
			return false, fmt.Errorf("store: intake: visitor's cells: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// ReleaseVisitorDay undoes ClaimVisitorDay: it frees one of the visitor's
// slots (which one does not matter, only how many are held).
func (w *IntakeTx) ReleaseVisitorDay(ctx context.Context, day tally.Day, visitorKey []byte, max int) error {
	st, err := w.openDay(ctx, day)
	if err != nil {
		return err
	}
	table, _ := ContribTable(day)
	for slot := max - 1; slot >= 0; slot-- {
		res, err := w.tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE key = ?`, visitorDayKey(st.mac, visitorKey, slot))
		if err != nil {
			return fmt.Errorf("store: intake: undo visitor's cell: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
	}
	return nil
}

// visitorDayKey is the per-day salted hash of one of a visitor's slots
// (privacy.max_cells_per_visitor_day of them). Like contributionKey it
// cannot be recomputed once the salt is deleted at seal.
func visitorDayKey(m hash.Hash, visitorKey []byte, slot int) []byte {
	m.Reset()
	m.Write([]byte("visitor_day"))
	m.Write([]byte{0})
	m.Write(visitorKey)
	m.Write(binary.BigEndian.AppendUint32([]byte{0}, uint32(slot)))
	return m.Sum(nil)[:KeyLen]
}
