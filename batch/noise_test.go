package batch_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tally-health/tally/batch"
)

// TestGeometricNoiseDistribution checks the sampler against the discrete
// Laplace law with a seeded source, so the test is deterministic.
func TestGeometricNoiseDistribution(t *testing.T) {
	for _, eps := range []float64{0.5, 1, 2} {
		src := rand.NewChaCha8([32]byte{byte(eps * 10)})
		alpha := math.Exp(-eps)
		const n = 50000
		var sum, sumSq float64
		zeros := 0
		for range n {
			z, err := batch.GeometricNoise(src, eps)
			if err != nil {
				t.Fatal(err)
			}
			sum += float64(z)
			sumSq += float64(z * z)
			if z == 0 {
				zeros++
			}
		}
		mean, variance := sum/n, sumSq/n-(sum/n)*(sum/n)
		wantVar := 2 * alpha / ((1 - alpha) * (1 - alpha))
		wantZero := (1 - alpha) / (1 + alpha)
		if math.Abs(mean) > 5*math.Sqrt(wantVar/n) {
			t.Errorf("eps %g: mean %.3f, want about 0", eps, mean)
		}
		if math.Abs(variance-wantVar) > 0.08*wantVar {
			t.Errorf("eps %g: variance %.3f, want %.3f", eps, variance, wantVar)
		}
		if p := float64(zeros) / n; math.Abs(p-wantZero) > 0.015 {
			t.Errorf("eps %g: P(0) = %.3f, want %.3f", eps, p, wantZero)
		}
	}
	// The README's figure: at epsilon 1 the standard deviation is about 1.4.
	a := math.Exp(-1)
	if sd := math.Sqrt(2 * a / ((1 - a) * (1 - a))); sd < 1.3 || sd > 1.45 {
		t.Errorf("sd at epsilon 1 = %.3f", sd)
	}
}

func TestGeometricNoiseBadEpsilon(t *testing.T) {
	if _, err := batch.GeometricNoise(rand.NewChaCha8([32]byte{}), 0); err == nil {
		t.Error("epsilon 0 accepted")
	}
}

func TestCryptoNoiseDraws(t *testing.T) {
	// Two draws of a 64-bit-entropy sampler at a tiny epsilon are distinct
	// with overwhelming probability; equal draws mean a constant source.
	seen := map[int64]bool{}
	for range 20 {
		z, err := batch.CryptoNoise(0.01)
		if err != nil {
			t.Fatal(err)
		}
		seen[z] = true
	}
	if len(seen) < 5 {
		t.Errorf("20 draws at epsilon 0.01 gave only %d values", len(seen))
	}
}
