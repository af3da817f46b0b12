package batch

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"

	"github.com/tally-health/tally"
)

// CryptoNoise draws discrete Laplace noise for epsilon from crypto/rand.
// It reads rand.Reader when called (not a copy taken earlier), so the
// production path is the operating system's generator.
func CryptoNoise(epsilon tally.Epsilon) (int64, error) { return DiscreteLaplace(rand.Reader, epsilon) }

// DiscreteLaplace draws one value of two-sided geometric (discrete Laplace)
// noise: P(z) = (1-α)/(1+α)·α^|z| with α = exp(-epsilon). Its variance is
// 2α/(1-α)², so at epsilon 1 the standard deviation is about 1.36.
//
// It is exact: Algorithms 1 and 2 of Canonne, Kamath and Steinke, "The
// Discrete Gaussian for Differential Privacy" (NeurIPS 2020), with integer
// arithmetic only on the way from random bits to the value. A float64
// sampler can produce only some values, with slightly wrong weights, and
// that can leak the count it was added to (Mironov, CCS 2012).
//
// r must be a cryptographic source in production: noise that can be
// predicted can be subtracted.
func DiscreteLaplace(r io.Reader, epsilon tally.Epsilon) (int64, error) {
	if !epsilon.Valid() {
		return 0, fmt.Errorf("discrete laplace: bad epsilon %d/%d", epsilon.Num, epsilon.Den)
	}
	b := bitSource{r: r}
	// Lap_Z(t/s) with t/s = 1/epsilon: t = Den, s = Num.
	s, t := uint64(epsilon.Num), uint64(epsilon.Den)
	for b.err == nil {
		u := b.uniform(t)
		if !b.bernoulliExp(u, t) {
			continue
		}
		var v uint64
		for b.bernoulliExp(1, 1) {
			v++
		}
		y := (u + t*v) / s
		neg := b.uniform(2) == 1
		switch {
		case b.err != nil:
		case neg && y == 0:
			continue // otherwise 0 would be drawn twice as often
		case neg:
			return -int64(y), nil
		default:
			return int64(y), nil
		}
	}
	return 0, fmt.Errorf("discrete laplace: read random: %w", b.err)
}

// bitSource reads uniform integers from r, 64 bits at a time and using
// only as many as each needs (a draw takes a few dozen bits, not a read
// per integer). After a read error it returns zeros and keeps the error
// for the caller; every Bernoulli draw is then false, so every loop ends.
type bitSource struct {
	r     io.Reader
	err   error
	cache uint64 // unused random bits, the low n of them
	n     int
	buf   [8]byte
}

// take returns k (1..64) fresh random bits.
func (b *bitSource) take(k int) uint64 {
	if b.n < k {
		if _, err := io.ReadFull(b.r, b.buf[:]); err != nil {
			b.err = err
			return 0
		}
		// The leftover bits are dropped: every bit is used once at most.
		b.cache, b.n = binary.LittleEndian.Uint64(b.buf[:]), 64
	}
	x := b.cache
	if k < 64 {
		x &= 1<<k - 1
		b.cache >>= k
	}
	b.n -= k
	return x
}

// uniform is uniform on [0, n), n >= 1, by rejection: no modulo bias.
func (b *bitSource) uniform(n uint64) uint64 {
	if n <= 1 {
		return 0
	}
	k := bits.Len64(n - 1)
	for b.err == nil {
		if x := b.take(k); b.err == nil && x < n {
			return x
		}
	}
	return 0
}

// bernoulli is true with probability num/den (0 <= num <= den).
func (b *bitSource) bernoulli(num, den uint64) bool { return b.uniform(den) < num }

// bernoulliExp is true with probability exp(-num/den) (CKS Algorithm 1):
// for gamma <= 1, draw A_k ~ Bernoulli(gamma/k) for k = 1, 2, ... until
// one is 0; the result is whether that k is odd. For gamma > 1, it is
// the product of floor(gamma) draws at exp(-1) and one at the remainder.
func (b *bitSource) bernoulliExp(num, den uint64) bool {
	for num > den {
		if !b.bernoulliExp(1, 1) {
			return false
		}
		num -= den
	}
	k := uint64(1)
	for b.err == nil && b.bernoulli(num, den*k) {
		k++
	}
	return b.err == nil && k%2 == 1
}
