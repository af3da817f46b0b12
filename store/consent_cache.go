package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"sync"
	"time"
)

// consentCache holds visitors' consent histories for the intake writer, so
// an event's consent check does not run a query once its visitor is known.
// It is only ever used inside a write transaction, and is kept exact:
//   - consents written through this DB mark their visitors dirty inside
//     their own transaction, before it commits; the writer drops those
//     entries when its next transaction begins (the single writer
//     connection orders the two);
//   - any commit by another connection (another tally process) changes
//     PRAGMA data_version, and the writer then drops the whole cache.
type consentCache struct {
	mu    sync.Mutex
	dirty map[string]bool // visitor keys changed since the last sync
	// entries: visitor key -> each purpose's history by time. An event
	// may need two purposes (consent.require_sensitive); a short slice per
	// visitor rather than an inner map, which cost about 150 MB more at
	// 300,000 cached visitors (BENCHMARKS.md, intake after issues 13–16).
	entries     map[string][]purposeHist
	dataVersion int64
}

// purposeHist is one purpose's history of one visitor, by time.
type purposeHist struct {
	purpose string
	hist    []consentRec
}

type consentRec struct {
	at      string // FormatTime
	granted bool
}

// maxCachedVisitors bounds the cache; past it the cache starts over.
const maxCachedVisitors = 200_000

func newConsentCache() *consentCache {
	return &consentCache{dirty: map[string]bool{}, entries: map[string][]purposeHist{}, dataVersion: -1}
}

// reset empties the cache; the next transaction reloads what it needs.
func (c *consentCache) reset() {
	c.mu.Lock()
	c.entries, c.dataVersion = map[string][]purposeHist{}, -1
	clear(c.dirty)
	c.mu.Unlock()
}

// markDirty records that a visitor's history changed.
func (c *consentCache) markDirty(visitorKey []byte) {
	c.mu.Lock()
	c.dirty[string(visitorKey)] = true
	c.mu.Unlock()
}

// sync makes the cache exact at the start of a write transaction.
func (c *consentCache) sync(ctx context.Context, tx *sql.Tx, version *sql.Stmt) error {
	var v int64
	if err := tx.StmtContext(ctx, version).QueryRowContext(ctx).Scan(&v); err != nil {
		return fmt.Errorf("store: consent cache: data_version: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != c.dataVersion || len(c.entries) > maxCachedVisitors {
		c.entries = map[string][]purposeHist{}
		c.dataVersion = v
	} else {
		for k := range c.dirty {
			delete(c.entries, k)
		}
	}
	clear(c.dirty)
	return nil
}

// latest returns the latest record at or before t (a withdrawal wins a
// tie), loading the visitor's history with load on a miss.
func (c *consentCache) latest(visitorKey []byte, purpose string, t time.Time, load func() ([]consentRec, error)) (consentRec, bool, error) {
	key := string(visitorKey)
	c.mu.Lock()
	var hist []consentRec
	ok := false
	for _, ph := range c.entries[key] {
		if ph.purpose == purpose {
			hist, ok = ph.hist, true
			break
		}
	}
	c.mu.Unlock()
	if !ok {
		var err error
		if hist, err = load(); err != nil {
			return consentRec{}, false, err
		}
		c.mu.Lock()
		c.entries[key] = append(c.entries[key], purposeHist{purpose, hist})
		c.mu.Unlock()
	}
	at := FormatTime(t)
	// hist is ordered by time, withdrawals after grants at the same time,
	// so the last record at or before t is the answer.
	i := sort.Search(len(hist), func(i int) bool { return hist[i].at > at })
	if i == 0 {
		return consentRec{}, false, nil
	}
	return hist[i-1], true, nil
}

// loadHistory reads a visitor's whole history for purpose inside tx.
func loadHistory(ctx context.Context, stmt *sql.Stmt, visitorKey []byte, purpose string) ([]consentRec, error) {
	rows, err := stmt.QueryContext(ctx, visitorKey, purpose)
	if err != nil {
		return nil, fmt.Errorf("store: consent history: %w", err)
	}
	defer rows.Close()
	var hist []consentRec
	for rows.Next() {
		var r consentRec
		if err := rows.Scan(&r.at, &r.granted); err != nil {
			return nil, fmt.Errorf("store: consent history: %w", err)
		}
		hist = append(hist, r)
	}
	return hist, rows.Err()
}
