package report

import (
	"strconv"
	"strings"

	"github.com/tally-health/tally"
)

// Chart is a line chart of released conversions per period, drawn as
// inline SVG by the template: one polyline per series.
type Chart struct {
	W, H   int
	Left   int // x of the y axis
	Bottom int // y of the x axis
	Series []Series
	YTicks []Tick
	XTicks []Tick
}

// Series is one line of a chart.
type Series struct {
	Name   string
	Class  string // the line's colour and dash pattern (see the CSS)
	Points string // "x,y x,y ..." in the chart's coordinates
	Dots   []Tick // a mark per period when there are few
}

// Tick is a labelled position on an axis (or a dot: X, Y). Anchor is the
// label's text-anchor, so the first and last dates stay inside the chart.
type Tick struct {
	X, Y   int
	Label  string
	Anchor string
}

// the platform chart's size and margins, in SVG units.
const (
	chartW, chartH           = 720, 220
	chartLeft, chartRight    = 48, 12
	chartTop, chartBottomPad = 12, 28
	// dotsUpTo: with more periods than this, lines carry no dots.
	dotsUpTo = 62
)

// PlatformChart draws one line per platform.
func (r *Report) PlatformChart() Chart {
	c := Chart{W: chartW, H: chartH, Left: chartLeft, Bottom: chartH - chartBottomPad}
	top := int64(0)
	for _, l := range r.Platforms {
		for _, f := range l.Series {
			top = max(top, f.Released)
		}
	}
	top = niceCeil(top)
	x := xScale(len(r.Periods), chartLeft, chartW-chartRight)
	y := func(v int64) int { return c.Bottom - int(v*int64(c.Bottom-chartTop)/top) }
	for _, l := range r.Platforms {
		s := Series{Name: string(l.Platform), Class: platformClass(l.Platform)}
		var pts strings.Builder
		for i, f := range l.Series {
			if i > 0 {
				pts.WriteByte(' ')
			}
			px, py := x(i), y(f.Released)
			pts.WriteString(strconv.Itoa(px) + "," + strconv.Itoa(py))
			if len(l.Series) <= dotsUpTo {
				s.Dots = append(s.Dots, Tick{X: px, Y: py})
			}
		}
		s.Points = pts.String()
		c.Series = append(c.Series, s)
	}
	for _, v := range []int64{0, top / 2, top} {
		c.YTicks = append(c.YTicks, Tick{X: chartLeft - 6, Y: y(v), Label: count(v), Anchor: "end"})
	}
	if n := len(r.Periods); n > 0 {
		for _, i := range uniq(0, n/2, n-1) {
			anchor := "middle"
			switch {
			case n == 1:
			case i == 0:
				anchor = "start"
			case i == n-1:
				anchor = "end"
			}
			c.XTicks = append(c.XTicks, Tick{X: x(i), Y: c.Bottom + 18, Label: r.Periods[i].Label, Anchor: anchor})
		}
	}
	return c
}

// the sparklines' size, in SVG units, and the most points one draws: a
// longer series is summed into that many runs of consecutive periods (365
// points in 120 units would show nothing more, and weigh 2.5 kB a row).
const sparkW, sparkH, sparkPoints = 120, 24, 60

// Spark is a line's small chart: its points in a sparkW × sparkH box,
// scaled to its own highest point.
func (l *Line) Spark() string {
	vals := make([]int64, 0, min(len(l.Series), sparkPoints))
	for i, f := range l.Series {
		// Period i goes to run i*sparkPoints/n: runs of equal length, give
		// or take one.
		if k := i * sparkPoints / len(l.Series); len(l.Series) <= sparkPoints || k >= len(vals) {
			vals = append(vals, 0)
		}
		vals[len(vals)-1] += f.Released
	}
	top := int64(1)
	for _, v := range vals {
		top = max(top, v)
	}
	x := xScale(len(vals), 1, sparkW-1)
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(x(i)) + "," + strconv.Itoa(sparkH-2-int(v*(sparkH-4)/top)))
	}
	return b.String()
}

// xScale places n periods evenly from x0 to x1 (one period in the middle).
func xScale(n, x0, x1 int) func(int) int {
	if n <= 1 {
		return func(int) int { return (x0 + x1) / 2 }
	}
	return func(i int) int { return x0 + i*(x1-x0)/(n-1) }
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 10),
// so the axis reads in round numbers.
func niceCeil(v int64) int64 {
	for step := int64(10); ; step *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if c := step / 10 * m * 10; c >= v {
				return c
			}
		}
	}
}

// uniq returns the distinct values of xs in order.
func uniq(xs ...int) []int {
	var out []int
	for _, x := range xs {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// platformClass is the CSS class of a platform's line: a colour and a
// dash pattern, so the lines stay apart when printed in grey.
func platformClass(p tally.Platform) string {
	switch p {
	case tally.PlatformMeta, tally.PlatformGoogle, tally.PlatformTikTok, tally.PlatformLinkedIn, tally.PlatformNone:
		return "p-" + string(p)
	}
	return "p-none"
}
