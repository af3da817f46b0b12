//go:build !race

package batch_test

// chiDraws is how many draws TestDiscreteLaplaceChiSquare makes per
// epsilon (see noise_race_test.go).
const chiDraws = 1_000_000
