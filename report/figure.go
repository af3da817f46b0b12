package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Figure is what one table cell of the report says: the sum of the
// released counts of its cells, how many of its cells the gate withheld
// (held or suppressed, their counts never read), and the days carried
// counts in its released cells came from.
type Figure struct {
	Released int64
	Withheld int
	// K is the highest release threshold among the withheld cells: each
	// held fewer than K.
	K int
	// CarriedFrom and CarriedTo bound the days whose counts were carried
	// into a released cell; empty when none was.
	CarriedFrom, CarriedTo tally.Day
}

func (f *Figure) add(c store.ReportCell) {
	if c.Status != tally.Released {
		f.Withheld++
		// A threshold of 0 still releases nothing below 1 (see batch.Gate).
		f.K = max(f.K, c.MinCount, 1)
		return
	}
	f.Released += c.Released
	if c.CarryAge > 0 {
		from, to := c.Day.Add(-c.CarryAge), c.Day.Add(-1)
		if f.CarriedFrom == "" || from < f.CarriedFrom {
			f.CarriedFrom = from
		}
		f.CarriedTo = max(f.CarriedTo, to)
	}
}

// merge adds g to f: released counts and withheld cells add up, the
// threshold is the higher, the carried days span both.
func (f *Figure) merge(g Figure) {
	f.Released += g.Released
	f.Withheld += g.Withheld
	f.K = max(f.K, g.K)
	if g.CarriedFrom != "" && (f.CarriedFrom == "" || g.CarriedFrom < f.CarriedFrom) {
		f.CarriedFrom = g.CarriedFrom
	}
	f.CarriedTo = max(f.CarriedTo, g.CarriedTo)
}

// Text is the figure as the page prints it: "12"; "< 11" for one
// withheld cell; "3 × < 11" for three; "12 + 2 × < 11" for released
// counts beside withheld cells; "" for nothing at all.
func (f Figure) Text() string {
	withheld := ""
	switch {
	case f.Withheld == 1:
		withheld = "< " + strconv.Itoa(f.K)
	case f.Withheld > 1:
		withheld = fmt.Sprintf("%s × < %d", count(int64(f.Withheld)), f.K)
	}
	switch {
	case f.Released > 0 && withheld != "":
		return count(f.Released) + " + " + withheld
	case f.Released > 0:
		return count(f.Released)
	case withheld != "":
		return withheld
	}
	return ""
}

// Carried says where carried counts came from, "" when none were.
func (f Figure) Carried() string {
	switch {
	case f.CarriedFrom == "":
		return ""
	case f.CarriedFrom == f.CarriedTo:
		return "carried from " + string(f.CarriedFrom)
	}
	return "carried from " + string(f.CarriedFrom) + " to " + string(f.CarriedTo)
}

// count formats n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + count(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Money is an amount per currency.
type Money map[string]tally.Micros

func (m *Money) add(s store.SpendRow) {
	if *m == nil {
		*m = Money{}
	}
	(*m)[s.Currency] += s.Spend
}

// Text is the amount, each currency apart ("1,234.50 EUR").
func (m Money) Text() string {
	var parts []string
	for _, c := range m.currencies() {
		parts = append(parts, amount(m[c])+" "+c)
	}
	return strings.Join(parts, ", ")
}

// CostPer is the spend per released conversion, "" unless there are
// conversions and spend in a single currency.
func (m Money) CostPer(f Figure) string {
	cs := m.currencies()
	if len(cs) != 1 || f.Released == 0 {
		return ""
	}
	return amount(m[cs[0]]/tally.Micros(f.Released)) + " " + cs[0]
}

func (m Money) currencies() []string {
	var cs []string
	for c := range m {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// amount formats micros as units with two decimals, rounded half away
// from zero.
func amount(m tally.Micros) string {
	micros := int64(m)
	cents := micros / 10_000
	if rest := micros % 10_000; rest >= 5_000 {
		cents++
	} else if rest <= -5_000 {
		cents--
	}
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%s.%02d", sign, count(cents/100), cents%100)
}

// Delivery is what reached one platform: released conversions by the
// upload state of their cells.
type Delivery struct {
	Platform tally.Platform
	Released int64
	// States holds conversions by upload state; NotQueued those of
	// released cells without an upload row.
	States    map[tally.State]int64
	NotQueued int64
}

// add counts an uploads state's conversions, which are no longer waiting
// to be queued.
func (d *Delivery) add(x store.ReportDelivery) {
	if d.States == nil {
		d.States = map[tally.State]int64{}
	}
	d.States[x.State] += x.Conversions
	d.NotQueued -= x.Conversions
}

// DeliveryColumns are the delivery table's columns, in order.
var DeliveryColumns = []tally.State{tally.Sent, tally.Partial, tally.Pending, tally.Uncertain, tally.Failed, tally.Expired, tally.DryRun}

// In returns the conversions in state s, as text ("" for none).
func (d *Delivery) In(s tally.State) string {
	if n := d.States[s]; n > 0 {
		return count(n)
	}
	return ""
}
