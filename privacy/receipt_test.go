package privacy

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

func gate(noise tally.Noise, eps string) tally.GateParams {
	e, err := tally.ParseEpsilon(eps)
	if err != nil {
		panic(err)
	}
	return tally.GateParams{MinCount: 11, SmallCounts: tally.Carry, CarryDays: 7, Noise: noise, Epsilon: e}
}

// TestReceipt: the per-visitor ε of a day is L·ε exactly under noise, and
// nothing without noise, without events (0) or without a recorded bound.
func TestReceipt(t *testing.T) {
	r := Receipt(gate(tally.Geometric, "0.3"), 3, 40)
	if r.Epsilon != "0.3" || r.VisitorEpsilon != "0.9" || r.VisitorBound != 3 || r.MinCount != 11 {
		t.Errorf("geometric, L 3: %+v", r)
	}
	// δ: L · P(Z >= k-1) = 3 · α^10/(1+α), α = e^-0.3.
	a := math.Exp(-0.3)
	d, err := strconv.ParseFloat(strings.TrimPrefix(r.VisitorDelta, "≈"), 64)
	if want := 3 * math.Pow(a, 10) / (1 + a); err != nil || math.Abs(d-want) > 0.01*want {
		t.Errorf("δ %s, want ≈%.3g", r.VisitorDelta, want)
	}
	if !strings.Contains(r.Statement, "per-visitor ε = 0.9 for the day") {
		t.Errorf("statement %q", r.Statement)
	}
	for _, tt := range []struct {
		name        string
		r           store.Receipt
		eps, vEps   string
		inStatement string
	}{
		{"no noise", Receipt(gate(tally.NoNoise, "1"), 1, 40), "", "", "threshold only, no ε"},
		{"no events", Receipt(gate(tally.Geometric, "1"), 0, 0), "1", "0", "no events this day: per-visitor ε 0"},
		{"no bound recorded", Receipt(gate(tally.Geometric, "1"), 0, 5), "1", "", "no per-visitor bound recorded for the day, so no per-visitor ε"},
	} {
		if tt.r.Epsilon != tt.eps || tt.r.VisitorEpsilon != tt.vEps || !strings.Contains(tt.r.Statement, tt.inStatement) {
			t.Errorf("%s: %+v", tt.name, tt.r)
		}
	}
}

// TestCompose: basic composition sums the days' per-visitor ε exactly; a
// day without one leaves the period without one.
func TestCompose(t *testing.T) {
	g := gate(tally.Geometric, "0.1")
	days := []store.Receipt{Receipt(g, 2, 5), Receipt(g, 1, 5), Receipt(g, 0, 0)}
	p := Compose("2026-11-01", "2026-11-03", days)
	if p.Epsilon != "0.3" || !strings.HasPrefix(p.Delta, "≈") || p.Days != 3 {
		t.Errorf("0.2 + 0.1 + 0: %+v", p)
	}
	if !strings.Contains(p.Statement(), "per-visitor ε = 0.3") {
		t.Errorf("statement %q", p.Statement())
	}
	p = Compose("2026-11-01", "2026-11-04", append(days, Receipt(gate(tally.NoNoise, "1"), 1, 5)))
	if p.Epsilon != "" || p.ThresholdOnly != 1 || !strings.Contains(p.Statement(), "no per-visitor ε") {
		t.Errorf("with a threshold-only day: %+v", p)
	}
	if p := Compose("2026-11-01", "2026-11-01", nil); p.Epsilon != "" || !strings.Contains(p.Statement(), "no sealed day") {
		t.Errorf("no days: %+v", p)
	}
}
