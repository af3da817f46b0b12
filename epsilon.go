package tally

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// The bounds of privacy.epsilon: more than 0, at most MaxEpsilon, and
// written with at most EpsilonPlaces decimal places. The sampler's
// integers then stay small, and every ε the project states (per cell, per
// visitor, summed over days) is an exact decimal.
const (
	MaxEpsilon    = 100
	EpsilonPlaces = 6
)

// epsilonScale is 10^EpsilonPlaces: every valid denominator divides it.
const epsilonScale = 1_000_000

// Epsilon is the privacy parameter of the geometric noise as an exact
// fraction Num/Den in lowest terms. The noise is sampled from it with
// integer arithmetic only; Float64 is for display and the REAL column.
type Epsilon struct {
	Num, Den int64
}

// ParseEpsilon reads a decimal ("0.5", "1e-3") as an exact rational. It
// refuses anything that is not > 0 and <= MaxEpsilon, or that has more than
// EpsilonPlaces decimal places ("0.1000000001", "1e-9", "1/3").
func ParseEpsilon(s string) (Epsilon, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return Epsilon{}, fmt.Errorf("epsilon %q is not a number", s)
	}
	if r.Sign() <= 0 || r.Cmp(big.NewRat(MaxEpsilon, 1)) > 0 {
		return Epsilon{}, fmt.Errorf("epsilon %q must be > 0 and <= %d", s, MaxEpsilon)
	}
	if new(big.Int).Rem(big.NewInt(epsilonScale), r.Denom()).Sign() != 0 {
		return Epsilon{}, fmt.Errorf("epsilon %q has more than %d decimal places (exactly %s)", s, EpsilonPlaces, r.RatString())
	}
	// Both fit: Den <= 10^6 and Num <= 100·Den.
	return Epsilon{Num: r.Num().Int64(), Den: r.Denom().Int64()}, nil
}

// EpsilonOf is the exact value of f's shortest decimal text, so 0.1 is
// 1/10 and not the binary fraction nearest to it.
func EpsilonOf(f float64) (Epsilon, error) {
	return ParseEpsilon(strconv.FormatFloat(f, 'g', -1, 64))
}

// Valid reports whether e is a value ParseEpsilon returns.
func (e Epsilon) Valid() bool {
	if e.Den <= 0 || epsilonScale%e.Den != 0 || e.Num <= 0 || e.Num > MaxEpsilon*e.Den {
		return false
	}
	a, b := e.Num, e.Den // lowest terms: gcd 1
	for b != 0 {
		a, b = b, a%b
	}
	return a == 1
}

// Rat is the exact value.
func (e Epsilon) Rat() *big.Rat {
	if e.Den == 0 {
		return new(big.Rat)
	}
	return big.NewRat(e.Num, e.Den)
}

// String is the exact value as a decimal ("0.5", "2").
func (e Epsilon) String() string { return Decimal(e.Rat()) }

// Float64 is the nearest float64, for display and gate_epsilon only. Num
// and Den are exact in a float64 (below 2^53) and IEEE division rounds
// correctly, so this is the float nearest Num/Den, without allocating (the
// seal writes it on every row).
func (e Epsilon) Float64() float64 {
	if e.Den == 0 {
		return 0
	}
	return float64(e.Num) / float64(e.Den)
}

// Decimal writes r, whose denominator divides 10^EpsilonPlaces (any sum or
// whole multiple of valid epsilons), as an exact decimal without trailing
// zeros. Any other r is written rounded, with a leading "≈".
func Decimal(r *big.Rat) string {
	s := r.FloatString(EpsilonPlaces)
	if new(big.Int).Rem(big.NewInt(epsilonScale), r.Denom()).Sign() != 0 {
		return "≈" + s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
