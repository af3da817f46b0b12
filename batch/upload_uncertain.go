package batch

import (
	"context"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// resendUncertain sends once more, one request each, the conversions whose
// earlier request had an unknown outcome: the operator has checked the
// platform's reports and asks for them (tally upload --resend-uncertain).
// Each request carries exactly the conversions of the uncertain one, under
// the same ids. Its answer settles them: acknowledged, refused, or unknown
// again (then they wait for the next resend).
func (p *platformRun) resendUncertain(ctx context.Context) error {
	ranges, err := p.d.DB.OpenUncertain(ctx, p.spec.Platform, p.d.Day)
	if err != nil {
		return err
	}
	rows := map[tally.Cell]*store.Upload{}
	for _, r := range ranges {
		if err := ctx.Err(); err != nil {
			return err
		}
		u, ok := rows[r.Cell]
		if !ok {
			if u, err = p.d.DB.Upload(ctx, r.Cell); err != nil {
				return err
			}
			rows[r.Cell] = u
		}
		if u == nil {
			continue // cannot happen: every range belongs to a row
		}
		c, err := p.resendChunk(u, r)
		if err != nil {
			return err
		}
		if err := p.deliver(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// resendChunk rebuilds the conversions of one uncertain range.
func (p *platformRun) resendChunk(u *store.Upload, r store.UncertainRange) (chunk, error) {
	at, err := EventTime(u.Day, p.d.Loc)
	if err != nil {
		return chunk{}, err
	}
	c := chunk{resend: []int64{r.ID}}
	for i := r.First; i < r.First+r.N; i++ {
		c.conv = append(c.conv, p.conversion(u, at, i))
		c.owner = append(c.owner, u)
	}
	return c, nil
}
