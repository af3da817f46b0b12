package batch

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// CryptoNoise draws two-sided geometric noise for epsilon from crypto/rand.
func CryptoNoise(epsilon float64) (int64, error) { return GeometricNoise(rand.Reader, epsilon) }

// GeometricNoise draws one value of two-sided geometric (discrete Laplace)
// noise with parameter alpha = exp(-epsilon): P(z) is proportional to
// alpha^|z|. Its variance is 2·alpha/(1-alpha)², so at epsilon 1 the
// standard deviation is about 1.36 conversions. r must be a cryptographic
// source in production: predictable noise could be subtracted.
func GeometricNoise(r io.Reader, epsilon float64) (int64, error) {
	if !(epsilon > 0) {
		return 0, fmt.Errorf("geometric noise: epsilon must be > 0, got %g", epsilon)
	}
	alpha := math.Exp(-epsilon)
	// The difference of two independent one-sided geometric variables is
	// two-sided geometric with the same alpha.
	x, err := geometric(r, alpha)
	if err != nil {
		return 0, err
	}
	y, err := geometric(r, alpha)
	if err != nil {
		return 0, err
	}
	return x - y, nil
}

// geometric draws k >= 0 with P(k) = (1-alpha)·alpha^k by inversion:
// P(floor(ln U / ln alpha) >= k) = P(U <= alpha^k) = alpha^k.
func geometric(r io.Reader, alpha float64) (int64, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("geometric noise: read random: %w", err)
	}
	// U uniform on (0, 1] from 53 random bits, so ln U is finite.
	u := float64(binary.LittleEndian.Uint64(b[:])>>11+1) / (1 << 53)
	return int64(math.Floor(math.Log(u) / math.Log(alpha))), nil
}
