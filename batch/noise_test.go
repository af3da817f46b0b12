package batch_test

import (
	"crypto/rand"
	"io"
	"math"
	mrand "math/rand/v2"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

func eps(t testing.TB, s string) tally.Epsilon {
	t.Helper()
	e, err := tally.ParseEpsilon(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// draws counts n values of DiscreteLaplace(eps) from a seeded source.
func draws(t *testing.T, e tally.Epsilon, seed byte, n int) map[int64]int {
	t.Helper()
	src := mrand.NewChaCha8([32]byte{seed})
	counts := map[int64]int{}
	for range n {
		z, err := batch.DiscreteLaplace(src, e)
		if err != nil {
			t.Fatal(err)
		}
		counts[z]++
	}
	return counts
}

// chiSquare compares counts of n draws with the discrete Laplace law at
// alpha = exp(-eps): P(z) = (1-alpha)/(1+alpha)·alpha^|z|. Values with an
// expected count of at least 5 each get a bin, each tail one more. It
// returns the statistic and the critical value at significance 1e-4
// (Wilson–Hilferty approximation of the chi-square quantile).
func chiSquare(counts map[int64]int, n int, eps float64) (stat, critical float64) {
	alpha := math.Exp(-eps)
	p := func(z int64) float64 { return (1 - alpha) / (1 + alpha) * math.Pow(alpha, math.Abs(float64(z))) }
	m := int64(0)
	for float64(n)*p(m+1) >= 5 {
		m++
	}
	add := func(observed int, prob float64) {
		e := float64(n) * prob
		stat += (float64(observed) - e) * (float64(observed) - e) / e
	}
	lo, hi := 0, 0
	for z, c := range counts {
		switch {
		case z < -m:
			lo += c
		case z > m:
			hi += c
		}
	}
	tail := math.Pow(alpha, float64(m+1)) / (1 + alpha) // P(Z > m) = P(Z < -m)
	add(lo, tail)
	add(hi, tail)
	for z := -m; z <= m; z++ {
		add(counts[z], p(z))
	}
	df := float64(2*m + 2) // 2m+3 bins, one constraint
	const z4 = 3.719       // standard normal quantile at 1 - 1e-4
	a := 2 / (9 * df)
	return stat, df * math.Pow(1-a+z4*math.Sqrt(a), 3)
}

// TestDiscreteLaplaceChiSquare checks the exact sampler against the exact
// probabilities with a seeded source (for the test only), and checks the
// test itself: draws at a slightly different epsilon fail it.
func TestDiscreteLaplaceChiSquare(t *testing.T) {
	n := chiDraws // 10^6, or 10^5 under -race (noise_race_test.go)
	for i, s := range []string{"0.5", "1", "2"} {
		e := eps(t, s)
		stat, critical := chiSquare(draws(t, e, byte(i+1), n), n, e.Float64())
		t.Logf("epsilon %s: %d draws, chi-square %.1f (critical %.1f)", s, n, stat, critical)
		if stat > critical {
			t.Errorf("epsilon %s: chi-square %.1f over %d draws > %.1f: not discrete Laplace", s, stat, n, critical)
		}
	}
	// The same statistic tells epsilon 1.05 from 1.
	stat, critical := chiSquare(draws(t, eps(t, "1.05"), 9, n), n, 1)
	if stat <= critical {
		t.Errorf("draws at epsilon 1.05 pass as epsilon 1 (chi-square %.1f <= %.1f): the test cannot fail", stat, critical)
	}
}

func TestDiscreteLaplaceMoments(t *testing.T) {
	// The README's figure: at epsilon 1 the standard deviation is about 1.36.
	const n = 100_000
	var sum, sumSq float64
	for z, c := range draws(t, eps(t, "1"), 7, n) {
		sum += float64(z) * float64(c)
		sumSq += float64(z*z) * float64(c)
	}
	if sd := math.Sqrt(sumSq/n - (sum/n)*(sum/n)); sd < 1.33 || sd > 1.39 {
		t.Errorf("sd at epsilon 1 = %.3f, want about 1.36", sd)
	}
}

func TestDiscreteLaplaceRefuses(t *testing.T) {
	src := mrand.NewChaCha8([32]byte{})
	for _, e := range []tally.Epsilon{{}, {Num: 0, Den: 1}, {Num: -1, Den: 1}, {Num: 1, Den: 3}, {Num: 2, Den: 4}, {Num: 101, Den: 1}} {
		if _, err := batch.DiscreteLaplace(src, e); err == nil {
			t.Errorf("epsilon %d/%d accepted", e.Num, e.Den)
		}
	}
	// A source that fails fails the draw (and does not loop).
	if _, err := batch.DiscreteLaplace(io.LimitReader(src, 3), eps(t, "1")); err == nil {
		t.Error("a failing source gave a noise value")
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestGateNoiseReadsCryptoRand proves the production path: a Gate with no
// Draw, sealing with geometric noise, reads crypto/rand.Reader (replaced
// here by a counter in front of it), and reads nothing else.
func TestGateNoiseReadsCryptoRand(t *testing.T) {
	orig := rand.Reader
	c := &countingReader{r: orig}
	rand.Reader = c
	t.Cleanup(func() { rand.Reader = orig })

	g := batch.Gate{GateParams: tally.GateParams{MinCount: 1, SmallCounts: tally.Suppress, Noise: tally.Geometric, Epsilon: eps(t, "0.01")}}
	in := store.SealInput{Day: "2026-11-20"}
	for i := range 20 {
		in.Raw = append(in.Raw, store.CellCount{Platform: tally.PlatformMeta, Campaign: "c" + string(rune('a'+i)), Conversion: "booking", Raw: 100})
	}
	rows, err := g.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	if c.n == 0 {
		t.Fatal("the gate drew noise without reading crypto/rand.Reader")
	}
	// At epsilon 0.01 the noise has a standard deviation of ~141: twenty
	// equal values would mean the bytes read were not used.
	seen := map[int64]bool{}
	for _, r := range rows {
		seen[r.Noise] = true
	}
	if len(seen) < 10 {
		t.Errorf("20 cells at epsilon 0.01 drew only %d distinct noise values", len(seen))
	}
}
