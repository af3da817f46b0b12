// Package report builds the marketers' page of campaign results (`tally
// report`, and GET /report on the intake server): released conversions
// per platform and campaign over a period, grouped by day, week or month,
// with cost per conversion where spend is known and delivery per
// platform. It reads the store through store.ReportCells, which never
// returns a raw, held or suppressed count, so no figure on the page can
// be one; every total is a sum of released counts. The page is one
// self-contained HTML file: inline CSS and SVG, no script, no external
// request.
package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/privacy"
	"github.com/tally-health/tally/store"
)

// Days is how many of the most recent sealed days a report shows when no
// period is given (as the export).
const Days = 30

// Options are one report's settings.
type Options struct {
	// From and To are the first and last day; either left empty is the
	// first or last of the Days most recent sealed days.
	From, To tally.Day
	// Group is the period counts are summed over; zero is GroupDay.
	Group tally.Group
	// Timezone is rollup.timezone, the zone days are counted in.
	Timezone string
	// Now is when the report is made; Version the tally version.
	Now     time.Time
	Version string
}

// Report is everything the page shows.
type Report struct {
	From, To   tally.Day
	Group      tally.Group
	Timezone   string
	Generated  string
	Version    string
	SealedDays int
	// Periods are the columns of every series, in order.
	Periods []Period
	// Kinds are the conversion names present, in order.
	Kinds     []string
	Platforms []*Line
	Campaigns []*Line
	Delivery  []*Delivery
	Gates     []GateSpan
	// Privacy is the period's privacy statement from the sealed days'
	// receipts (privacy.Period.Statement), "" when none was sealed.
	Privacy string
	// Spend is true when any spend was found for the period.
	Spend bool
}

// Period is one group of days.
type Period struct {
	Start tally.Day
	Label string
}

// Line is one platform, or one campaign of one platform, over the period.
type Line struct {
	Platform tally.Platform
	Campaign string
	Total    Figure
	ByKind   []Figure // aligned with Report.Kinds
	Series   []Figure // aligned with Report.Periods
	Spend    Money
}

// MaxDays is the longest period one report covers: three years. A page
// of more by day would be many megabytes, and a period of centuries
// (--from 0001-01) would take minutes to lay out.
const MaxDays = 3*365 + 1

// Check refuses a period whose first day is after its last, or longer
// than MaxDays (usage errors, tally.KindUsage).
func (o Options) Check() error {
	switch {
	case o.From == "" || o.To == "":
		return nil
	case o.From > o.To:
		return tally.WithKind(tally.KindUsage, fmt.Errorf("report: --from %s is after --to %s", o.From, o.To))
	case o.From.Add(MaxDays-1) < o.To:
		return tally.WithKind(tally.KindUsage, fmt.Errorf("report: %s to %s is longer than %d days: report a shorter period", o.From, o.To, MaxDays))
	}
	return nil
}

// Build reads the report of opts' period from db. A period with no sealed
// day gives an empty report, not an error; from after to is a usage error.
func Build(ctx context.Context, db *store.DB, opts Options) (*Report, error) {
	from, to, err := period(ctx, db, opts.From, opts.To)
	if err != nil {
		return nil, err
	}
	// Checked once the period is known: --from alone runs to the last
	// sealed day, however far that is.
	if err := (Options{From: from, To: to}).Check(); err != nil {
		return nil, err
	}
	g := opts.Group
	if g == (tally.Group{}) {
		g = tally.GroupDay
	}
	r := &Report{From: from, To: to, Group: g, Timezone: opts.Timezone, Version: opts.Version,
		Generated: opts.Now.UTC().Format("2006-01-02 15:04 UTC")}
	if from == "" {
		return r, db.Stable()
	}
	r.Periods = periods(from, to, g)
	acc := r.newAccumulator()
	if err := db.ReportCells(ctx, from, to, acc.add); err != nil {
		return nil, err
	}
	deliveries, err := db.ReportDeliveries(ctx, from, to, tally.UploadPlatforms, DeliveryColumns)
	if err != nil {
		return nil, err
	}
	gates, err := db.ReportGates(ctx, from, to)
	if err != nil {
		return nil, err
	}
	r.Gates = spans(gates)
	stated, _, _, err := privacy.Load(ctx, db, from, to)
	if err != nil {
		return nil, err
	}
	r.Privacy = stated.Statement()
	if r.SealedDays, err = db.SealedDaysBetween(ctx, from, to); err != nil {
		return nil, err
	}
	spend, err := db.Spend(ctx, from, to)
	if err != nil {
		return nil, err
	}
	// A file that changed while it was read is reported as such rather
	// than shown half old, half new.
	if err := db.Stable(); err != nil {
		return nil, err
	}
	acc.finish(deliveries, spend)
	return r, nil
}

// period resolves the days to report: without bounds the Days most
// recent sealed days; from alone runs to the last sealed day; to alone
// is the Days days ending on it.
func period(ctx context.Context, db *store.DB, from, to tally.Day) (tally.Day, tally.Day, error) {
	switch {
	case from != "" && to != "":
		return from, to, nil
	case to != "":
		return to.Add(-(Days - 1)), to, nil
	}
	first, last, ok, err := db.LastSealedDays(ctx, Days)
	switch {
	case err != nil:
		return "", "", err
	case from == "":
		return first, last, nil // both "" when nothing is sealed
	case !ok || last < from:
		return from, from, nil
	}
	return from, last, nil
}

// accumulator sums cells into a report's campaign lines as the store
// reads them; the platform lines are their sums.
type accumulator struct {
	r     *Report
	index map[tally.Day]int // period start → column
	day   tally.Day         // the day of the last cell, and its column
	col   int
	lines lines
	// kinds numbers the conversions in the order met; byKind holds each
	// line's figures by that number until the kinds are sorted.
	kinds  map[string]int
	byKind map[*Line][]Figure
}

func (r *Report) newAccumulator() *accumulator {
	a := &accumulator{r: r, index: make(map[tally.Day]int, len(r.Periods)), lines: lines{},
		kinds: map[string]int{}, byKind: map[*Line][]Figure{}}
	for i, p := range r.Periods {
		a.index[p.Start] = i
	}
	return a
}

func (a *accumulator) add(c store.ReportCell) {
	if c.Day != a.day { // cells come in day order: one lookup a day
		a.day, a.col = c.Day, a.index[a.r.Group.Start(c.Day)]
	}
	k, ok := a.kinds[c.Conversion]
	if !ok {
		k = len(a.kinds)
		a.kinds[c.Conversion] = k
	}
	l := a.lines.get(a.r, c.Platform, c.Campaign)
	l.Total.add(c)
	l.Series[a.col].add(c)
	byKind := a.byKind[l]
	for len(byKind) <= k {
		byKind = append(byKind, Figure{})
	}
	byKind[k].add(c)
	a.byKind[l] = byKind
}

// finish sums the platform lines, orders the lines, lays out the figures
// per conversion, and adds the deliveries and the spend.
func (a *accumulator) finish(deliveries []store.ReportDelivery, spend []store.SpendRow) {
	r := a.r
	for k := range a.kinds {
		r.Kinds = append(r.Kinds, k)
	}
	slices.Sort(r.Kinds)
	for _, s := range spend {
		if s.Day >= r.From && s.Day <= r.To {
			r.Spend = true
			a.lines.get(r, s.Platform, s.Campaign).Spend.add(s)
		}
	}
	platforms := lines{}
	for _, l := range a.lines {
		l.ByKind = make([]Figure, len(r.Kinds))
		for i, k := range r.Kinds {
			if n := a.kinds[k]; n < len(a.byKind[l]) {
				l.ByKind[i] = a.byKind[l][n]
			}
		}
		p := platforms.get(r, l.Platform, "")
		if p.ByKind == nil {
			p.ByKind = make([]Figure, len(r.Kinds))
		}
		p.Total.merge(l.Total)
		for i := range l.Series {
			p.Series[i].merge(l.Series[i])
		}
		for i := range l.ByKind {
			p.ByKind[i].merge(l.ByKind[i])
		}
		for c, v := range l.Spend {
			p.Spend.add(store.SpendRow{Currency: c, Spend: v})
		}
	}
	r.Platforms, r.Campaigns = platforms.sorted(), a.lines.sorted()
	byPlatform := map[tally.Platform]*Delivery{}
	for _, l := range r.Platforms {
		d := &Delivery{Platform: l.Platform, Released: l.Total.Released, NotQueued: l.Total.Released}
		byPlatform[l.Platform] = d
		r.Delivery = append(r.Delivery, d)
	}
	for _, x := range deliveries {
		if d := byPlatform[x.Platform]; d != nil {
			d.add(x)
		}
	}
}

// GateSpan is one set of release gate parameters and the first and last
// sealed day it was in force on.
type GateSpan struct {
	tally.GateParams
	From, To tally.Day
}

// spans joins consecutive days sealed with the same parameters.
func spans(days []store.DayGate) []GateSpan {
	var out []GateSpan
	for _, d := range days {
		if n := len(out); n > 0 && out[n-1].GateParams == d.GateParams {
			out[n-1].To = d.Day
			continue
		}
		out = append(out, GateSpan{GateParams: d.GateParams, From: d.Day, To: d.Day})
	}
	return out
}

// lines holds lines by platform and campaign as they are met.
type lines map[[2]string]*Line

func (ls lines) get(r *Report, p tally.Platform, campaign string) *Line {
	key := [2]string{string(p), campaign}
	l, ok := ls[key]
	if !ok {
		l = &Line{Platform: p, Campaign: campaign, Series: make([]Figure, len(r.Periods))}
		ls[key] = l
	}
	return l
}

// sorted returns the lines by platform, then by released total (largest
// first: the question is which campaigns brought conversions), then name.
func (ls lines) sorted() []*Line {
	out := make([]*Line, 0, len(ls))
	for _, l := range ls {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *Line) int {
		if a.Platform != b.Platform {
			return platformOrder(a.Platform) - platformOrder(b.Platform)
		}
		if a.Total.Released != b.Total.Released {
			if a.Total.Released > b.Total.Released {
				return -1
			}
			return 1
		}
		if a.Campaign < b.Campaign {
			return -1
		}
		if a.Campaign > b.Campaign {
			return 1
		}
		return 0
	})
	return out
}

// platformOrder puts the uploaded platforms in their fixed order and
// "none" last.
func platformOrder(p tally.Platform) int {
	if i := slices.Index(tally.UploadPlatforms, p); i >= 0 {
		return i
	}
	return len(tally.UploadPlatforms)
}

// periods lists the groups of days from..to.
func periods(from, to tally.Day, g tally.Group) []Period {
	var out []Period
	for d := from; d <= to; d = d.Add(1) {
		start := g.Start(d)
		if len(out) > 0 && out[len(out)-1].Start == start {
			continue
		}
		label := string(start)
		if g == tally.GroupMonth {
			label = string(start[:len("2006-01")])
		}
		out = append(out, Period{Start: start, Label: label})
	}
	return out
}
