// Package export writes the counts of sealed days for marketers: one row
// per (day, platform, campaign, conversion) cell, or per week or month, as
// CSV or JSON, read from the store. Only released counts leave it.
package export

import (
	"context"
	"fmt"
	"io"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Days is how many of the most recent sealed days an export shows by default.
const Days = 30

// Row is one exported cell, or one cell's period when grouped. Count is
// nil unless something was released. Uncertain is how many of its
// conversions went to a platform that does not deduplicate (GA4) in a
// request whose outcome is unknown: the platform's own figures may lack
// them. CarriedIn names the days before the row's first day whose held
// counts are in its total ("D" or "D1..D2", "" when none); Delivery is the
// row's upload state ("" when nothing released was queued for upload).
type Row struct {
	Day        string `json:"day"`
	Platform   string `json:"platform"`
	Campaign   string `json:"campaign"`
	Conversion string `json:"conversion"`
	Count      *int64 `json:"count"`
	Status     string `json:"status"`
	Uncertain  int    `json:"uncertain"`
	CarriedIn  string `json:"carried_in"`
	Delivery   string `json:"delivery"`
}

// Options is one export.
type Options struct {
	// From and To are the first and last day; either left empty is the
	// first or last of the Days most recent sealed days.
	From, To tally.Day
	// Group sums the days of each week or month into one row per cell;
	// the zero value is tally.GroupDay, one row per day.
	Group  tally.Group
	Format Format
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
		cells, err := readCells(ctx, db, from, to)
		if err != nil {
			return Written{}, err
		}
		rows = group(cells, opts.Group, from)
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

// readCells reads the cells of from..to with their uncertain counts and
// upload states.
func readCells(ctx context.Context, db *store.DB, from, to tally.Day) ([]cell, error) {
	counts, err := db.DailyCounts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	uncertain, err := db.UncertainCounts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	states, err := db.UploadStates(ctx, from, to)
	if err != nil {
		return nil, err
	}
	cells := make([]cell, 0, len(counts))
	for _, r := range counts {
		c := cell{Cell: r.Cell, status: r.Status, uncertain: uncertain[r.Cell]}
		if r.Status == tally.Released {
			c.released = r.ReleasedCount
			c.state, c.queued = states[r.Cell]
		}
		if r.CarryAge > 0 {
			// A held count moves to the next day, so what a cell carries
			// in was held on each of the CarryAge days before it.
			c.carriedFrom = r.Day.Add(-r.CarryAge)
		}
		cells = append(cells, c)
	}
	return cells, nil
}
