package simulate

import (
	"reflect"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// defaultGate is config.Default()'s [privacy] (privacy.min_count 11,
// carry for 7 days, no noise); TestSimulateCommand (cmd/tally) runs the
// command on the real default.
var defaultGate = batch.Gate{GateParams: tally.GateParams{MinCount: 11, SmallCounts: tally.Carry, CarryDays: 7,
	Noise: tally.NoNoise, Epsilon: tally.Epsilon{Num: 1, Den: 1}}}

// noGate releases every count of one or more as it is.
var noGate = batch.Gate{GateParams: tally.GateParams{MinCount: 0, SmallCounts: tally.Suppress,
	Noise: tally.NoNoise, Epsilon: tally.Epsilon{Num: 1, Den: 1}}}

// TestDefaultGateDisclosesNoClicker: against a platform that knows each
// day's clickers, the default gate releases no cell that shows every
// clicker converted, at any level; with the gate off some cells do (so
// the test can fail).
func TestDefaultGateDisclosesNoClicker(t *testing.T) {
	const days = 365
	rs, err := Run(defaultGate, Levels, days, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Disclosing != 0 {
			t.Errorf("default gate, %d clickers at %d%%: %d of %d released cells disclose every clicker", r.Clickers, r.Percent, r.Disclosing, r.ReleasedCells)
		}
	}
	if rs[len(rs)-1].ReleasedShare() < 0.9 {
		t.Errorf("default gate at 100 clickers, 30%%: only %.2f of conversions released", rs[len(rs)-1].ReleasedShare())
	}
	off, err := Run(noGate, Levels, days, 1)
	if err != nil {
		t.Fatal(err)
	}
	disclosing := 0
	for _, r := range off {
		disclosing += r.Disclosing
	}
	if disclosing == 0 {
		t.Error("with the gate off no cell disclosed every clicker: the simulation cannot tell")
	}
}

// TestSimulateIsDeterministic: the same seed gives the same table, noise
// included; another seed another one.
func TestSimulateIsDeterministic(t *testing.T) {
	g := defaultGate
	g.Noise = tally.Geometric
	a, _ := Run(g, Levels, 60, 7)
	b, _ := Run(g, Levels, 60, 7)
	c, _ := Run(g, Levels, 60, 8)
	if !reflect.DeepEqual(a, b) {
		t.Error("seed 7 twice gave two results")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("seeds 7 and 8 gave the same results")
	}
}
