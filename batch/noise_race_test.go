//go:build race

package batch_test

// chiDraws is how many draws TestDiscreteLaplaceChiSquare makes per
// epsilon. Under the race detector a draw is about ten times slower, so
// the race run makes a tenth of them; scripts/test.sh runs the test again
// without -race, with the full million.
const chiDraws = 100_000
