// Package privacy states what the release gate guarantees: the receipt
// each sealed day records (k, noise, ε per cell, the per-visitor bound L
// and the per-visitor ε of the day) and its sum over a period.
package privacy

import (
	"fmt"
	"math"
	"math/big"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Receipt is the privacy statement of a day sealed with gate g: bound is
// the per-visitor daily bound intake applied (0: none recorded) and events
// how many of the day's events the seal rolled up.
//
// Under noise a visitor's conversions on the day change at most bound
// cells, each by at most one (one count per visitor per cell), so the
// day's noisy counts are (bound·ε)-differentially private per visitor.
// Whether a cell exists at all is not noised: a cell holding one visitor's
// conversions alone is released only when its noise lifts it to the
// threshold, with probability at most VisitorDelta over the bound's cells.
func Receipt(g tally.GateParams, bound int, events int64) store.Receipt {
	r := store.Receipt{MinCount: g.MinCount, Noise: g.Noise, VisitorBound: bound}
	k := max(g.MinCount, 1)
	bounds := fmt.Sprintf("at most L = %d cell(s) per visitor per day", bound)
	switch {
	case events == 0:
		bounds = "no events this day"
	case bound == 0:
		bounds = "no per-visitor bound recorded for the day"
	}
	if g.Noise != tally.Geometric {
		r.Statement = fmt.Sprintf("threshold only, no ε: cells below k = %d are held or suppressed; %s", k, bounds)
		return r
	}
	r.Epsilon = g.Epsilon.String()
	switch {
	case events == 0:
		r.VisitorEpsilon, r.VisitorDelta = "0", "0"
		r.Statement = fmt.Sprintf("k = %d, discrete Laplace noise at ε = %s per cell; %s: per-visitor ε 0", k, r.Epsilon, bounds)
	case bound == 0:
		r.Statement = fmt.Sprintf("k = %d, discrete Laplace noise at ε = %s per cell; %s, so no per-visitor ε", k, r.Epsilon, bounds)
	default:
		r.VisitorEpsilon = tally.Decimal(new(big.Rat).Mul(g.Epsilon.Rat(), big.NewRat(int64(bound), 1)))
		r.VisitorDelta = formatDelta(float64(bound) * tailAtLeast(g.Epsilon, k-1))
		r.Statement = fmt.Sprintf("k = %d, discrete Laplace noise at ε = %s per cell; %s: per-visitor ε = %s for the day (δ %s)",
			k, r.Epsilon, bounds, r.VisitorEpsilon, r.VisitorDelta)
	}
	return r
}

// tailAtLeast is P(Z >= m) for discrete Laplace noise Z at epsilon, m >= 0:
// α^m/(1+α) with α = exp(-ε). It is the chance that a cell whose only
// count is one conversion reaches a threshold of m+1. Display only: it is
// not on the sampling path.
func tailAtLeast(e tally.Epsilon, m int) float64 {
	alpha := math.Exp(-e.Float64())
	return math.Pow(alpha, float64(m)) / (1 + alpha)
}

// formatDelta writes a probability rounded, marked with "≈".
func formatDelta(p float64) string { return fmt.Sprintf("≈%.2g", p) }

// Period is the statement for several sealed days: the per-visitor ε and
// δ summed over them (basic composition), when every day has one.
type Period struct {
	From, To tally.Day
	Days     int // days with a receipt
	// ThresholdOnly and Unbounded count the days without a per-visitor ε:
	// sealed without noise, or without a recorded bound.
	ThresholdOnly, Unbounded int
	// Epsilon is the sum of the days' per-visitor ε (exact), Delta of
	// their δ; both "" when a day has none.
	Epsilon, Delta string
}

// Compose sums the receipts' per-visitor ε and δ over the days: a visitor
// present on every day loses at most the sum (basic composition).
func Compose(from, to tally.Day, rs []store.Receipt) Period {
	p := Period{From: from, To: to, Days: len(rs)}
	eps := new(big.Rat)
	var delta float64
	for _, r := range rs {
		switch {
		case r.Noise != tally.Geometric:
			p.ThresholdOnly++
			continue
		case r.VisitorEpsilon == "":
			p.Unbounded++
			continue
		}
		e, ok := new(big.Rat).SetString(r.VisitorEpsilon)
		var d float64
		_, err := fmt.Sscanf(trimApprox(r.VisitorDelta), "%g", &d)
		if !ok || err != nil {
			p.Unbounded++ // a receipt this code cannot read states nothing
			continue
		}
		eps.Add(eps, e)
		delta += d
	}
	if p.Days > 0 && p.ThresholdOnly == 0 && p.Unbounded == 0 {
		p.Epsilon, p.Delta = tally.Decimal(eps), formatDelta(delta)
		if delta == 0 {
			p.Delta = "0"
		}
	}
	return p
}

func trimApprox(s string) string {
	if len(s) >= len("≈") && s[:len("≈")] == "≈" {
		return s[len("≈"):]
	}
	return s
}

// Statement is the period's privacy statement in one sentence, for a
// report's footer.
func (p Period) Statement() string {
	switch {
	case p.Days == 0:
		return fmt.Sprintf("privacy %s to %s: no sealed day with a receipt", p.From, p.To)
	case p.Epsilon != "":
		return fmt.Sprintf("privacy %s to %s: per-visitor ε = %s, δ %s over %d day(s) (basic composition: the sum of the days')",
			p.From, p.To, p.Epsilon, p.Delta, p.Days)
	default:
		return fmt.Sprintf("privacy %s to %s: no per-visitor ε (%d day(s) threshold only, %d without a per-visitor ε)",
			p.From, p.To, p.ThresholdOnly, p.Unbounded)
	}
}
