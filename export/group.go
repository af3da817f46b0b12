package export

import (
	"cmp"
	"slices"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/termsafe"
)

// cell is one daily_counts row as the export sees it: its raw, carried and
// held counts are not in it, so no row can show them.
type cell struct {
	tally.Cell
	status    tally.Status
	released  int64 // the released count; 0 unless released
	uncertain int
	// carriedFrom is the first day of a held count carried into the cell
	// ("" when none); the last is the day before the cell's.
	carriedFrom tally.Day
	// state is the released count's upload state; queued says it has one.
	state  tally.State
	queued bool
}

// deliveryOrder ranks upload states from least to most delivered: a
// period's delivery is the first of these that any of its released days
// has, so a period reads "sent" only when every released day with an
// upload was sent.
var deliveryOrder = []tally.State{tally.Failed, tally.Expired, tally.Uncertain, tally.Partial, tally.Pending, tally.DryRun, tally.Sent}

// period is one row being summed: a cell's days within one period.
type period struct {
	day                  tally.Day // the period's first day
	first                tally.Day // its first day in the export: day, or the export's first if later
	platform             tally.Platform
	campaign, conversion string
	released             int64
	anyReleased          bool
	last                 tally.Status // the status of its last day
	uncertain            int
	carriedFrom          tally.Day // earliest day before first carried in; "" when none
	delivery             int       // index in deliveryOrder; len(deliveryOrder) when none
}

// group sums cells, in (day, platform, campaign, conversion) order from
// the export's first day from, per period of g (a day, a week, a month;
// the zero Group is a day) and returns one row per (period, platform,
// campaign, conversion), in that order. A row's count is the sum of its
// released counts (nil when none was released); its status is released
// when any of its days released a count, else its last day's (held: still
// waiting; suppressed: final); uncertain is summed; carried_in names the
// days before the row's first day (the period's, or from when later) whose
// held counts were carried into it; delivery is the least delivered state
// of its released days (see deliveryOrder). Grouped by day, each row is
// one cell as daily_counts holds it.
func group(cells []cell, g tally.Group, from tally.Day) []Row {
	if g == (tally.Group{}) {
		g = tally.GroupDay
	}
	type key struct {
		day                  tally.Day
		platform             tally.Platform
		campaign, conversion string
	}
	byKey := map[key]*period{}
	var periods []*period
	for _, c := range cells {
		k := key{g.Start(c.Day), c.Platform, c.Campaign, c.Conversion}
		p := byKey[k]
		if p == nil {
			p = &period{day: k.day, first: max(k.day, from), platform: k.platform, campaign: k.campaign,
				conversion: k.conversion, delivery: len(deliveryOrder)}
			byKey[k] = p
			periods = append(periods, p)
		}
		p.uncertain += c.uncertain
		p.last = c.status // cells come in day order
		if c.status == tally.Released {
			p.anyReleased = true
			p.released += c.released
			if c.queued {
				p.delivery = min(p.delivery, slices.Index(deliveryOrder, c.state))
			}
		}
		if c.carriedFrom != "" && c.carriedFrom < p.first && (p.carriedFrom == "" || c.carriedFrom < p.carriedFrom) {
			p.carriedFrom = c.carriedFrom
		}
	}
	slices.SortFunc(periods, func(a, b *period) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.platform, b.platform),
			cmp.Compare(a.campaign, b.campaign), cmp.Compare(a.conversion, b.conversion))
	})
	rows := make([]Row, 0, len(periods))
	for _, p := range periods {
		rows = append(rows, p.row())
	}
	return rows
}

// row is the period as exported.
func (p *period) row() Row {
	// Escaped for whoever reads the export in a terminal or an editor:
	// intake refuses control and bidirectional characters, but a row
	// stored before it did may hold them.
	r := Row{Day: string(p.day), Platform: termsafe.String(string(p.platform)), Campaign: termsafe.String(p.campaign),
		Conversion: termsafe.String(p.conversion), Uncertain: p.uncertain}
	switch {
	case p.anyReleased:
		n := p.released
		r.Count, r.Status = &n, tally.Released.String()
	default:
		r.Status = p.last.String()
	}
	if p.delivery < len(deliveryOrder) {
		r.Delivery = deliveryOrder[p.delivery].String()
	}
	if p.carriedFrom != "" {
		r.CarriedIn = string(p.carriedFrom)
		if last := p.first.Add(-1); last != p.carriedFrom {
			r.CarriedIn += ".." + string(last)
		}
	}
	return r
}
