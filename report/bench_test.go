package report

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// yearDB writes a year of sealed days straight into daily_counts and
// uploads: 200 campaigns over the four platforms, two conversions each,
// about 80% of cells released (one in ten of them with a carried count),
// 15% held and 5% suppressed, every released cell sent.
func yearDB(b *testing.B, campaigns int) (*store.DB, tally.Day, tally.Day) {
	b.Helper()
	db := storetest.Open(b)
	c := sqlfile.Open(b, db.Path)
	tx, err := c.Begin()
	if err != nil {
		b.Fatal(err)
	}
	day, err := tally.ParseDay("2025-12-01")
	if err != nil {
		b.Fatal(err)
	}
	first := day
	sealedAt := "2026-11-29T00:00:00Z"
	for d := range 365 {
		if _, err := tx.Exec(`INSERT INTO days (day, sealed_at) VALUES (?, ?)`, day, sealedAt); err != nil {
			b.Fatal(err)
		}
		for k := range campaigns {
			p := tally.UploadPlatforms[k%len(tally.UploadPlatforms)]
			for ci, conv := range []string{"booking", "lead"} {
				n := (d*7 + k*13 + ci*5) % 20
				status, released, carriedIn, age := "released", int64(11+n), 0, 0
				switch {
				case n < 3:
					status, released = "held", 0
				case n == 3:
					status, released = "suppressed", 0
				case n%10 == 5 && d > 0:
					carriedIn, age = 4, 1
				}
				if _, err := tx.Exec(`INSERT INTO daily_counts (day, platform, campaign, conversion, raw_count, carried_in, noise,
					total, released_count, status, carry_age, gate_min_count, gate_small_counts, gate_carry_days, gate_noise,
					gate_epsilon, sealed_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 11, 'carry', 7, 'none', 1, ?)`,
					day, p, fmt.Sprintf("campaign_%03d", k), conv, released+int64(n%3), carriedIn, released+int64(n%3), released, status, age, sealedAt); err != nil {
					b.Fatal(err)
				}
				if status == "released" {
					if _, err := tx.Exec(`INSERT INTO uploads (day, platform, campaign, conversion, count, next_index, acked, state,
						created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?)`,
						day, p, fmt.Sprintf("campaign_%03d", k), conv, released, released, released, sealedAt, sealedAt); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		day = day.Add(1)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return db, first, day.Add(-1)
}

// BenchmarkReportYear is the report of a year of daily data for 200
// campaigns, read from the database and rendered, per group (bytes/page is
// the page's size). BENCHMARKS.md holds the numbers and the command.
func BenchmarkReportYear(b *testing.B) {
	db, from, to := yearDB(b, 200)
	for _, g := range []tally.Group{tally.GroupDay, tally.GroupWeek, tally.GroupMonth} {
		b.Run(g.String(), func(b *testing.B) {
			var size int
			for b.Loop() {
				r, err := Build(context.Background(), db, Options{From: from, To: to, Group: g, Timezone: "UTC", Now: time.Now()})
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				if err := r.Write(&buf); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}
