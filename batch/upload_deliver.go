package batch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// platformRun is one platform's delivery within a run. It is used by one
// goroutine only.
type platformRun struct {
	d       *Delivery
	t       Target
	spec    Spec
	sum     *Summary
	log     *slog.Logger
	ids     *ider
	limiter *rate.Limiter
	// rejectStreak counts single conversions rejected since the last success.
	rejectStreak int
	// skip holds the cells this run gave up on (expired, or a request
	// for them could not be built): their later conversions are not sent,
	// so next_index never passes conversions that were not resolved.
	skip map[tally.Cell]bool
	// outDir, outStamp and outSeq name a dry run's outbox files.
	outDir, outStamp string
	outSeq           int
}

// chunk is the conversions of one request and the ledger row each belongs
// to (parallel slices, so halves are plain sub-slices).
type chunk struct {
	conv  []Conversion
	owner []*store.Upload
	// resend lists the upload_uncertain rows a resend chunk settles; nil
	// for a first delivery.
	resend []int64
}

func (c chunk) split() (chunk, chunk) {
	m := len(c.conv) / 2
	return chunk{conv: c.conv[:m], owner: c.owner[:m]}, chunk{conv: c.conv[m:], owner: c.owner[m:]}
}

// byCell splits c into one chunk per ledger row.
func (c chunk) byCell() []chunk {
	var out []chunk
	for i, u := range c.owner {
		if i == 0 || c.owner[i-1] != u {
			out = append(out, chunk{resend: c.resend})
		}
		last := &out[len(out)-1]
		last.conv, last.owner = append(last.conv, c.conv[i]), append(last.owner, u)
	}
	return out
}

// owners returns each distinct ledger row of c once, in order.
func (c chunk) owners() []*store.Upload {
	var out []*store.Upload
	for i, u := range c.owner {
		if i == 0 || c.owner[i-1] != u {
			out = append(out, u)
		}
	}
	return out
}

// parts describes c for the ledger's upload_request_cells.
func (c chunk) parts() []store.RequestPart {
	var out []store.RequestPart
	for i, u := range c.owner {
		if i > 0 && c.owner[i-1] == u {
			out[len(out)-1].N++
			continue
		}
		out = append(out, store.RequestPart{Cell: u.Cell, First: c.conv[i].Index, N: 1})
	}
	return out
}

// chunks walks the cells' unresolved conversions in ledger order and yields
// requests of at most MaxBatch, never mixing cells when the platform wants
// one cell per request. yield returns false to stop.
func (p *platformRun) chunks(ups []*store.Upload, yield func(chunk) bool) error {
	max := p.spec.MaxBatch
	var cur chunk
	for _, u := range ups {
		at, err := EventTime(u.Day, p.d.Loc)
		if err != nil {
			return err
		}
		for i := u.Next; i < u.Count; i++ {
			cur.conv = append(cur.conv, p.conversion(u, at, i))
			cur.owner = append(cur.owner, u)
			if len(cur.conv) == max {
				if !yield(cur) {
					return nil
				}
				cur = chunk{}
			}
		}
		if p.spec.PerCell && len(cur.conv) > 0 {
			if !yield(cur) {
				return nil
			}
			cur = chunk{}
		}
	}
	if len(cur.conv) > 0 {
		yield(cur)
	}
	return nil
}

// conversion is conversion i of u's cell, with its keyed ids.
func (p *platformRun) conversion(u *store.Upload, at time.Time, i int) Conversion {
	return Conversion{
		Day: u.Day, Campaign: u.Campaign, Conversion: u.Conversion, Index: i, Time: at,
		EventID:    p.ids.id(labelEvent, p.spec.Platform, u.Day, u.Campaign, u.Conversion, i),
		ExternalID: p.ids.id(labelExternal, p.spec.Platform, u.Day, u.Campaign, u.Conversion, i),
	}
}

// batchOf wraps c for the adapter, with its keyed chunk id.
func (p *platformRun) batchOf(c chunk) *Batch {
	f := c.conv[0]
	return &Batch{Items: c.conv, ChunkID: p.ids.id(labelChunk, p.spec.Platform, f.Day, f.Campaign, f.Conversion, f.Index)}
}

// deliverAll sends every chunk in order, stopping between requests when ctx
// ends or after a fatal answer; the cells not reached are marked failed
// with the reason, and the next run resumes them.
func (p *platformRun) deliverAll(ctx context.Context, ups []*store.Upload) error {
	var stop error
	err := p.chunks(ups, func(c chunk) bool {
		if err := ctx.Err(); err != nil {
			stop = err
			return false
		}
		if err := p.deliver(ctx, c); err != nil {
			stop = err
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	if stop != nil {
		p.abandon(ctx, ups, stop)
	}
	return stop
}

// abandon records why cells with work left were not finished.
func (p *platformRun) abandon(ctx context.Context, ups []*store.Upload, why error) {
	var left []*store.Upload
	for _, u := range ups {
		if u.Remaining() == 0 || p.skip[u.Cell] || ctx.Err() != nil {
			continue // done, settled already, or interrupted: the row stays as it is
		}
		p.sum.Failed += u.Remaining()
		if u.State != tally.Failed && u.State != tally.Uncertain {
			u.State = tally.Failed
			u.LastError = fmt.Sprintf("not sent: %v", why)
		}
		left = append(left, u)
	}
	if len(left) > 0 {
		if err := p.d.DB.SaveUploads(context.WithoutCancel(ctx), left, p.d.Now()); err != nil {
			p.log.Error("record abandoned cells", "err", err)
		}
	}
}
