package batch_test

import (
	"errors"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

func gate(k int, mode tally.SmallCounts, carryDays int, noise ...int64) batch.Gate {
	g := batch.Gate{GateParams: tally.GateParams{MinCount: k, SmallCounts: mode, CarryDays: carryDays, Noise: tally.NoNoise, Epsilon: tally.Epsilon{Num: 1, Den: 1}}}
	if noise != nil {
		g.Noise = tally.Geometric
		g.Draw = func(tally.Epsilon) (int64, error) {
			if len(noise) == 0 {
				return 0, errors.New("no more noise")
			}
			n := noise[0]
			noise = noise[1:]
			return n, nil
		}
	}
	return g
}

func held(campaign string, total int64, age int) store.DailyCount {
	return store.DailyCount{Cell: tally.Cell{Platform: "meta", Campaign: campaign, Conversion: "booking"},
		Total: total, Status: tally.Held, CarryAge: age}
}

func raw(campaign string, n int64) store.CellCount {
	return store.CellCount{Platform: "meta", Campaign: campaign, Conversion: "booking", Raw: n}
}

// TestGateRules decides one cell per case; want is status, total, released.
func TestGateRules(t *testing.T) {
	tests := []struct {
		name       string
		g          batch.Gate
		raw        []store.CellCount
		held       []store.DailyCount
		nextSealed bool
		status     tally.Status
		total, rel int64
		noise      int64
		carriedIn  int64
		age        int
	}{
		{name: "exactly k is released", g: gate(11, tally.Carry, 7), raw: []store.CellCount{raw("c", 11)}, status: tally.Released, total: 11, rel: 11},
		{name: "one below k is held", g: gate(11, tally.Carry, 7), raw: []store.CellCount{raw("c", 10)}, status: tally.Held, total: 10},
		{name: "one below k suppressed in suppress mode", g: gate(11, tally.Suppress, 7), raw: []store.CellCount{raw("c", 10)}, status: tally.Suppressed, total: 10},
		{name: "carry reaches k on day 2", g: gate(11, tally.Carry, 7), raw: []store.CellCount{raw("c", 4)}, held: []store.DailyCount{held("c", 7, 0)},
			status: tally.Released, total: 11, rel: 11, carriedIn: 7, age: 1},
		{name: "carry with no events that day", g: gate(11, tally.Carry, 7), held: []store.DailyCount{held("c", 7, 2)},
			status: tally.Held, total: 7, carriedIn: 7, age: 3},
		{name: "carry waited carry_days: suppressed", g: gate(11, tally.Carry, 3), raw: []store.CellCount{raw("c", 1)}, held: []store.DailyCount{held("c", 7, 2)},
			status: tally.Suppressed, total: 8, carriedIn: 7, age: 3},
		{name: "carry_days 0 is suppress", g: gate(11, tally.Carry, 0), raw: []store.CellCount{raw("c", 3)}, status: tally.Suppressed, total: 3},
		{name: "next day already sealed: cannot carry", g: gate(11, tally.Carry, 7), raw: []store.CellCount{raw("c", 3)}, nextSealed: true, status: tally.Suppressed, total: 3},
		{name: "k 0 still never releases zero", g: gate(0, tally.Carry, 7, -5), raw: []store.CellCount{raw("c", 2)}, status: tally.Suppressed, total: 0, noise: -5},
		{name: "k 0 releases one", g: gate(0, tally.Carry, 7), raw: []store.CellCount{raw("c", 1)}, status: tally.Released, total: 1, rel: 1},
		{name: "noise added before threshold", g: gate(11, tally.Carry, 7, 2), raw: []store.CellCount{raw("c", 9)}, status: tally.Released, total: 11, rel: 11, noise: 2},
		{name: "negative noise clamps at 0", g: gate(11, tally.Carry, 7, -40), raw: []store.CellCount{raw("c", 30)}, status: tally.Suppressed, total: 0, noise: -40},
		{name: "clamp does not eat the carried count", g: gate(11, tally.Carry, 7, -40), raw: []store.CellCount{raw("c", 3)}, held: []store.DailyCount{held("c", 9, 0)},
			status: tally.Held, total: 9, noise: -40, carriedIn: 9, age: 1},
		{name: "carry-only cell draws no noise", g: gate(11, tally.Carry, 7, 100), held: []store.DailyCount{held("c", 12, 0)},
			status: tally.Released, total: 12, rel: 12, carriedIn: 12, age: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := tt.g.Apply(store.SealInput{Day: "2026-11-20", Raw: tt.raw, Held: tt.held, NextSealed: tt.nextSealed})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want 1: %+v", len(rows), rows)
			}
			r := rows[0]
			if r.Status != tt.status || r.Total != tt.total || r.ReleasedCount != tt.rel || r.Noise != tt.noise ||
				r.CarriedIn != tt.carriedIn || r.CarryAge != tt.age {
				t.Errorf("got status=%s total=%d released=%d noise=%d carried_in=%d age=%d, want %s %d %d %d %d %d",
					r.Status, r.Total, r.ReleasedCount, r.Noise, r.CarriedIn, r.CarryAge,
					tt.status, tt.total, tt.rel, tt.noise, tt.carriedIn, tt.age)
			}
			if r.Day != "2026-11-20" || r.Gate != tt.g.GateParams {
				t.Errorf("row day %q gate %+v", r.Day, r.Gate)
			}
		})
	}
}

func TestGateNoiseError(t *testing.T) {
	g := gate(11, tally.Carry, 7) // geometric with an empty noise source
	g.Noise = tally.Geometric
	g.Draw = func(tally.Epsilon) (int64, error) { return 0, errors.New("entropy gone") }
	if _, err := g.Apply(store.SealInput{Day: "2026-11-20", Raw: []store.CellCount{raw("c", 3)}}); err == nil {
		t.Error("a failing noise source must fail the seal, not release un-noised counts")
	}
}
