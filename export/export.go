// Package export writes the daily counts of sealed days for marketers:
// one row per (day, platform, campaign, conversion) cell, as CSV or JSON,
// read from the store.
package export

import (
	"context"
	"fmt"
	"io"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

// Days is how many of the most recent sealed days an export shows by default.
const Days = 30

// Row is one exported cell. Count is nil unless the cell was released.
// Uncertain is how many of its conversions went to a platform that does
// not deduplicate (GA4) in a request whose outcome is unknown: the
// platform's own figures may lack them.
type Row struct {
	Day        string `json:"day"`
	Platform   string `json:"platform"`
	Campaign   string `json:"campaign"`
	Conversion string `json:"conversion"`
	Count      *int64 `json:"count"`
	Status     string `json:"status"`
	Uncertain  int    `json:"uncertain"`
}

// Options is one export.
type Options struct {
	// From and To are the first and last day; either left empty is the
	// first or last of the Days most recent sealed days.
	From, To tally.Day
	Format   Format
	// File, when set, is written instead of the writer given to Run,
	// through a temporary file in its folder.
	File string
}

// Written is what Run wrote: how many rows, and the days they cover
// (empty when nothing is sealed).
type Written struct {
	Rows     int
	From, To tally.Day
}

// Run reads the cells of opts' days from db and writes them. It checks
// db.Stable after reading and before writing, so a file that changed
// meanwhile is reported as such instead of exported half old, half new.
func Run(ctx context.Context, db *store.DB, opts Options, w io.Writer) (Written, error) {
	from, to := opts.From, opts.To
	if from == "" || to == "" {
		first, last, _, err := db.LastSealedDays(ctx, Days)
		if err != nil {
			return Written{}, err
		}
		if from == "" {
			from = first
		}
		if to == "" {
			to = last
		}
	}
	var rows []Row
	if from != "" && to != "" {
		var err error
		if rows, err = readRows(ctx, db, from, to); err != nil {
			return Written{}, err
		}
	}
	if err := db.Stable(); err != nil {
		return Written{}, err
	}
	written := Written{Rows: len(rows), From: from, To: to}
	if opts.File == "" {
		return written, write(w, opts.Format, rows)
	}
	if err := writeFileAtomic(opts.File, func(w io.Writer) error { return write(w, opts.Format, rows) }); err != nil {
		return Written{}, fmt.Errorf("export: %w", err)
	}
	return written, nil
}

// readRows reads the cells of from..to with their uncertain counts.
func readRows(ctx context.Context, db *store.DB, from, to tally.Day) ([]Row, error) {
	counts, err := db.DailyCounts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	uncertain, err := db.UncertainCounts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(counts))
	for _, r := range counts {
		x := toRow(r)
		x.Uncertain = uncertain[r.Cell]
		rows = append(rows, x)
	}
	return rows, nil
}

func toRow(r store.DailyCount) Row {
	// Escaped for whoever reads the export in a terminal or an editor:
	// intake refuses control and bidirectional characters, but a row
	// stored before it did may hold them.
	x := Row{Day: string(r.Day), Platform: termsafe.String(string(r.Platform)), Campaign: termsafe.String(r.Campaign),
		Conversion: termsafe.String(r.Conversion), Status: r.Status.String()}
	if r.Status == tally.Released {
		n := r.ReleasedCount
		x.Count = &n
	}
	return x
}
