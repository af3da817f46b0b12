package tally

import (
	"math/big"
	"testing"
)

func TestParseEpsilon(t *testing.T) {
	for in, want := range map[string]Epsilon{
		"1": {1, 1}, "0.5": {1, 2}, "2": {2, 1}, "0.1": {1, 10}, "1e-6": {1, 1_000_000}, " 0.25 ": {1, 4}, "100": {100, 1},
	} {
		got, err := ParseEpsilon(in)
		if err != nil || got != want {
			t.Errorf("ParseEpsilon(%q) = %v, %v; want %d/%d", in, got, err, want.Num, want.Den)
		}
		if !got.Valid() {
			t.Errorf("%q: %d/%d not Valid", in, got.Num, got.Den)
		}
	}
	for _, in := range []string{"0", "-1", "abc", "", "0.1000000001", "1e-9", "1/3", "100.000001", "NaN", "Inf"} {
		if e, err := ParseEpsilon(in); err == nil {
			t.Errorf("ParseEpsilon(%q) = %d/%d, want an error", in, e.Num, e.Den)
		}
	}
	for _, e := range []Epsilon{{}, {2, 4}, {1, 3}, {-1, 2}, {101, 1}, {1, 0}} {
		if e.Valid() {
			t.Errorf("%d/%d is Valid", e.Num, e.Den)
		}
	}
}

func TestEpsilonText(t *testing.T) {
	for f, want := range map[float64]string{0.5: "0.5", 1: "1", 0.1: "0.1", 2.25: "2.25", 0.000001: "0.000001"} {
		e, err := EpsilonOf(f)
		if err != nil || e.String() != want {
			t.Errorf("EpsilonOf(%g) = %v, %v; want %s", f, e, err, want)
		}
		if e.Float64() != f {
			t.Errorf("%s.Float64() = %g, want %g", want, e.Float64(), f)
		}
	}
	// Sums of valid epsilons stay exact decimals; anything else is marked.
	sum := new(big.Rat).Add(big.NewRat(1, 10), big.NewRat(2, 10))
	if got := Decimal(sum); got != "0.3" {
		t.Errorf("0.1 + 0.2 = %s, want 0.3", got)
	}
	if got := Decimal(big.NewRat(1, 3)); got != "≈0.333333" {
		t.Errorf("1/3 = %s, want ≈0.333333", got)
	}
}
