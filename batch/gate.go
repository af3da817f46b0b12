package batch

import (
	"fmt"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Gate is the release gate: the threshold, what happens to counts below
// it, and the noise. It decides each cell of a day independently.
type Gate struct {
	tally.GateParams
	// Draw draws one noise value for epsilon; used only when
	// GateParams.Noise is "geometric". Nil means CryptoNoise.
	Draw func(epsilon tally.Epsilon) (int64, error)
}

// Apply decides every cell of in.Day: the cells with events that day and
// the cells held on the previous day. The rules, per cell:
//
//   - noise (when geometric) is drawn once for a cell with events and added
//     to its raw count, clamped at 0; a cell with only a carried count gets
//     no new noise (it holds no new data);
//   - total = carried_in + that clamped count;
//   - total >= max(min_count, 1): released (zero is never released);
//   - else "suppress" mode, a total of 0 (nothing to carry), a carry that
//     has already waited carry_days days, or a next day that is already
//     sealed: suppressed, final;
//   - else held: the total is carried into the same cell of the next day.
func (g Gate) Apply(in store.SealInput) ([]store.DailyCount, error) {
	type acc struct {
		raw, carried int64
		age          int
	}
	cells := map[tally.Cell]*acc{}
	var order []tally.Cell
	get := func(c tally.Cell) *acc {
		a, ok := cells[c]
		if !ok {
			a = &acc{}
			cells[c] = a
			order = append(order, c)
		}
		return a
	}
	for _, r := range in.Raw {
		get(tally.Cell{Day: in.Day, Platform: r.Platform, Campaign: r.Campaign, Conversion: r.Conversion}).raw += r.Raw
	}
	for _, h := range in.Held {
		a := get(tally.Cell{Day: in.Day, Platform: h.Platform, Campaign: h.Campaign, Conversion: h.Conversion})
		a.carried += h.Total
		a.age = h.CarryAge + 1
	}
	out := make([]store.DailyCount, 0, len(order))
	for _, c := range order {
		a := cells[c]
		row, err := g.decide(c, a.raw, a.carried, a.age, in.NextSealed)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

func (g Gate) decide(c tally.Cell, raw, carried int64, age int, nextSealed bool) (store.DailyCount, error) {
	row := store.DailyCount{Cell: c, RawCount: raw, CarriedIn: carried, CarryAge: age, Gate: g.GateParams}
	if g.Noise == tally.Geometric && raw > 0 {
		draw := g.Draw
		if draw == nil {
			draw = CryptoNoise
		}
		n, err := draw(g.Epsilon)
		if err != nil {
			return row, fmt.Errorf("noise: %w", err)
		}
		row.Noise = n
	}
	row.Total = carried + max(0, raw+row.Noise)
	switch {
	case row.Total >= int64(max(g.MinCount, 1)):
		row.Status, row.ReleasedCount = tally.Released, row.Total
	case g.SmallCounts != tally.Carry, row.Total == 0, age >= g.CarryDays, nextSealed:
		row.Status = tally.Suppressed
	default:
		row.Status = tally.Held
	}
	return row, nil
}
