// Package simulate attacks the release gate: it runs the real gate code
// (batch.Gate.Apply, with the real noise sampler on seeded bits) over
// simulated campaign-days and counts what an adversary who knows each
// day's clickers (the ad platform) learns from the released counts.
package simulate

import (
	"fmt"
	"io"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

// Level is a traffic level: clickers a day on one campaign, and the share
// of them that convert (percent).
type Level struct {
	Clickers, Percent int
}

// Levels are the traffic levels `tally privacy simulate` reports.
var Levels = []Level{{3, 5}, {10, 5}, {30, 5}, {100, 5}, {3, 30}, {10, 30}, {30, 30}, {100, 30}}

// Result is what the gate released at one level over the simulated days.
type Result struct {
	Level
	Conversions   int64 // conversions simulated
	Released      int64 // conversions in released counts
	ReleasedCells int   // released cells
	// Disclosing counts the released cells that show every clicker of
	// the days they cover (their own and those carried into them) as a
	// converter, truly: each of them converted, and the count is at least
	// their number, so the platform, knowing the clickers, concludes it.
	// (Under noise a count can reach the clickers without all of them
	// converting; the platform's conclusion is then wrong, and not
	// counted.)
	Disclosing int
}

// ReleasedShare is the share of conversions released.
func (r Result) ReleasedShare() float64 { return share(r.Released, int64(r.Conversions)) }

// DisclosingShare is the share of released cells that reveal every
// clicker as a converter.
func (r Result) DisclosingShare() float64 { return share(int64(r.Disclosing), int64(r.ReleasedCells)) }

func share(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Run simulates days consecutive days of one campaign at each level
// through gate g, deterministically from seed: the conversions of each
// clicker are drawn from a seeded generator, and so are the noise's bits
// (through the real sampler, batch.DiscreteLaplace).
func Run(g batch.Gate, levels []Level, days int, seed uint64) ([]Result, error) {
	out := make([]Result, 0, len(levels))
	for i, lv := range levels {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		var key [32]byte
		key[0], key[1] = byte(seed), byte(i)
		bits := rand.NewChaCha8(key)
		gate := g
		gate.Draw = func(e tally.Epsilon) (int64, error) { return batch.DiscreteLaplace(bits, e) }
		res, err := campaign(gate, lv, days, rng)
		if err != nil {
			return nil, fmt.Errorf("simulate %d clickers at %d%%: %w", lv.Clickers, lv.Percent, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// campaign runs one campaign's days through the gate, carrying held
// counts from day to day as the rollup does.
func campaign(g batch.Gate, lv Level, days int, rng *rand.Rand) (Result, error) {
	res := Result{Level: lv}
	var held []store.DailyCount
	var covered, converted int64 // clickers and conversions of the days the held count covers
	day := tally.Day("2026-01-01")
	for range days {
		var raw int64
		for range lv.Clickers {
			if rng.IntN(100) < lv.Percent {
				raw++
			}
		}
		res.Conversions += raw
		in := store.SealInput{Day: day, Held: held}
		if raw > 0 {
			in.Raw = []store.CellCount{{Platform: tally.PlatformMeta, Campaign: "sim", Conversion: "booking", Raw: raw}}
		}
		rows, err := g.Apply(in)
		if err != nil {
			return res, err
		}
		covered += int64(lv.Clickers)
		converted += raw
		held = nil
		for _, r := range rows {
			switch r.Status {
			case tally.Released:
				res.ReleasedCells++
				res.Released += r.ReleasedCount
				if r.ReleasedCount >= covered && converted == covered {
					res.Disclosing++
				}
			case tally.Held:
				held = append(held, r)
			}
		}
		if held == nil {
			covered, converted = 0, 0
		}
		day = day.Add(1)
	}
	return res, nil
}

// Print writes one table row per level.
func Print(w io.Writer, title string, rs []Result) error {
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clickers/day\tconversion\tconversions\treleased\treleased cells\tfull disclosure\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%d\t%d%%\t%d\t%.1f%%\t%d\t%.1f%%\t\n", r.Clickers, r.Percent, r.Conversions,
			100*r.ReleasedShare(), r.ReleasedCells, 100*r.DisclosingShare())
	}
	return tw.Flush()
}
