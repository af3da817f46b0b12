// Package uploadertest helps test the delivery engine and the platform
// adapters: it seeds released cells into a real SQLite file and builds a
// Delivery whose clock is fixed and whose sleeps are recorded, never slept;
// it runs a fake platform; and Conformance puts every adapter through the
// same cases, described by each adapter's Adapter.
package uploadertest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// Key is the keyed-hash secret tests use.
var Key = []byte("uploadertest-key-0123456789abcdef")

// Released is one released daily_counts cell.
type Released struct {
	Day                  tally.Day
	Platform             tally.Platform
	Campaign, Conversion string
	N                    int
}

// Seed inserts released cells into daily_counts, as a sealed rollup would.
func Seed(tb testing.TB, db *store.DB, cells ...Released) {
	tb.Helper()
	for _, c := range cells {
		_, err := sqlfile.Open(tb, db.Path).ExecContext(context.Background(), `INSERT INTO daily_counts
			(day, platform, campaign, conversion, raw_count, carried_in, noise, total, released_count, status,
			 carry_age, gate_min_count, gate_small_counts, gate_carry_days, gate_noise, gate_epsilon, sealed_at)
			VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, 'released', 0, 11, 'carry', 7, 'none', 1.0, ?)`,
			c.Day, c.Platform, c.Campaign, c.Conversion, c.N, c.N, c.N, store.FormatTime(time.Now()))
		if err != nil {
			tb.Fatalf("seed %+v: %v", c, err)
		}
	}
}

// Sleeps records the waits the engine asked for.
type Sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep records d and returns at once (or ctx's error).
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

// All returns the recorded waits.
func (s *Sleeps) All() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// Delivery returns a Delivery on db as of now, whose wall clock also reads
// now, with recorded sleeps and a jitter that always picks the ceiling (so
// waits are predictable).
func Delivery(db *store.DB, now time.Time) (*batch.Delivery, *Sleeps) {
	s := &Sleeps{}
	return &batch.Delivery{
		DB:     db,
		Key:    Key,
		Loc:    time.UTC,
		Now:    func() time.Time { return now },
		Wall:   func() time.Time { return now },
		Sleep:  s.Sleep,
		Jitter: func(n int64) int64 { return n - 1 },
	}, s
}

// Target wraps u with generous limits for tests.
func Target(u batch.Uploader, maxAttempts int) batch.Target {
	return batch.Target{Uploader: u, MaxAttempts: maxAttempts, Rate: 1e6}
}

// Uploads returns every uploads row of platform, in order.
func Uploads(tb testing.TB, db *store.DB, platform tally.Platform) []store.Upload {
	tb.Helper()
	rows, err := sqlfile.Open(tb, db.Path).QueryContext(context.Background(), `SELECT day, platform, campaign, conversion, count, next_index,
		acked, rejected, uncertain, state, attempts, last_error FROM uploads WHERE platform = ? ORDER BY day, campaign, conversion`, platform)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []store.Upload
	for rows.Next() {
		var u store.Upload
		if err := rows.Scan(&u.Day, &u.Platform, &u.Campaign, &u.Conversion, &u.Count, &u.Next, &u.Acked,
			&u.Rejected, &u.Uncertain, &u.State, &u.Attempts, &u.LastError); err != nil {
			tb.Fatal(err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
