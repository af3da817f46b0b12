package batch

import (
	"context"
	"fmt"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// deliver sends one chunk until it is resolved: acknowledged, retried up to
// MaxAttempts, bisected when the platform rejects the whole batch, or given
// up. Ledger state is committed with every answer. It returns an error only
// when the platform (or the run) must stop.
func (p *platformRun) deliver(ctx context.Context, c chunk) error {
	var req *Request
	for attempt := 1; ; attempt++ {
		if err := p.limiter.Wait(ctx); err != nil {
			return err
		}
		// The window is judged right before each request, retries
		// included: backoff can carry a request past it.
		live, err := p.live(ctx, c)
		if err != nil || len(live.conv) == 0 {
			return err
		}
		if req == nil || len(live.conv) != len(c.conv) {
			c = live
			if req, err = p.t.Uploader.Build(p.batchOf(c)); err != nil {
				return p.unbuildable(ctx, c, err, p.deliver)
			}
		}
		reply, err := p.send(ctx, c, req, attempt)
		if err != nil {
			return err
		}
		switch {
		case reply.Class == OK:
			p.rejectStreak = 0
			return nil
		case p.unknown(reply):
			// GA4 may have counted it: sending it again could count it
			// twice, so it waits for the operator's --resend-uncertain.
			return fmt.Errorf("%w: outcome unknown, not resent (%s does not deduplicate; see tally upload --resend-uncertain): %s",
				errStopped, p.spec.Platform, reply.Message)
		case reply.Class == Reject && c.resend != nil:
			return nil // a resend is never bisected: apply refused it whole
		case reply.Class == Reject && len(c.conv) == 1:
			// Bisection isolates one bad conversion; many in a row mean the
			// problem is not in the conversions (a bad dataset, say).
			if p.rejectStreak++; p.rejectStreak >= maxRejectStreak {
				return fmt.Errorf("%w: %d conversions in a row rejected one by one; last: %s", errStopped, p.rejectStreak, reply.Message)
			}
			return nil
		case reply.Class == Reject:
			p.log.Info("batch rejected, bisecting", "conversions", len(c.conv), "error", reply.Message)
			left, right := c.split()
			if err := p.deliver(ctx, left); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			return p.deliver(ctx, right)
		case reply.Class == Fatal:
			return fmt.Errorf("%w: %s", errStopped, reply.Message)
		case attempt >= p.t.MaxAttempts:
			return fmt.Errorf("%w: gave up after %d attempts: %s", errStopped, attempt, reply.Message)
		}
		wait := backoff(attempt, p.d.BaseBackoff, p.d.MaxBackoff, reply.RetryAfter, p.d.Jitter)
		p.log.Warn("retrying", "attempt", attempt, "status", reply.Status, "error", reply.Message, "wait", wait)
		if err := p.d.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// unknown reports whether reply leaves the request's outcome unknown on a
// platform that must not receive it twice.
func (p *platformRun) unknown(reply *Reply) bool {
	return p.spec.AtMostOnce && reply.Class == Retry && reply.Unknown
}

// live returns c without the conversions of cells this run gave up on,
// first marking expired every cell now past the platform's window by the
// wall clock. A resend past the window is dropped and stays uncertain: its
// outcome is still unknown.
func (p *platformRun) live(ctx context.Context, c chunk) (chunk, error) {
	wall := p.d.Wall()
	var dead []*store.Upload
	for _, u := range c.owners() {
		if p.skip[u.Cell] {
			continue
		}
		msg, err := p.d.pastWindow(p.spec, u.Day, wall)
		if err != nil {
			return chunk{}, err
		}
		if msg == "" {
			continue
		}
		p.skip[u.Cell] = true
		if c.resend != nil {
			p.log.Warn("uncertain conversions past the window; not resent", "day", u.Day, "err", msg)
			continue
		}
		p.sum.Expired += u.Remaining()
		u.State, u.LastError = tally.Expired, msg
		dead = append(dead, u)
	}
	if len(dead) > 0 {
		if err := p.d.DB.SaveUploads(context.WithoutCancel(ctx), dead, p.d.Now()); err != nil {
			return chunk{}, err
		}
		p.log.Warn("cells expired", "cells", len(dead))
	}
	out := chunk{resend: c.resend}
	for k, u := range c.owner {
		if !p.skip[u.Cell] {
			out.conv = append(out.conv, c.conv[k])
			out.owner = append(out.owner, u)
		}
	}
	return out, nil
}

// authHint ends the message of a 401/403 answer.
const authHint = " (credential refused: check the token or API secret and its permissions)"

// maxRejectStreak stops a platform whose conversions are all rejected
// individually, bounding what bisection can cost.
const maxRejectStreak = 8

// send records the request, sends it, and records the answer together with
// the ledger progress it makes.
func (p *platformRun) send(ctx context.Context, c chunk, req *Request, attempt int) (*Reply, error) {
	owners := c.owners()
	for _, u := range owners {
		u.Attempts++
	}
	// The request and its record complete even when ctx ends meanwhile:
	// cancellation stops the run between requests, never inside one, so an
	// acknowledgement is never lost (GA4 has no dedup).
	bg := context.WithoutCancel(ctx)
	id, err := p.d.DB.BeginUploadRequest(bg, &store.UploadRequest{
		Platform: p.spec.Platform, Method: req.Method, URL: req.URL, Body: req.Body,
		Attempt: attempt, SentAt: p.d.Wall(), Parts: c.parts(),
	}, owners)
	if err != nil {
		return nil, err
	}
	p.sum.Requests++
	if attempt > 1 {
		p.sum.Retries++
	}
	reply := p.t.Uploader.Send(bg, req)
	if reply.Class == Fatal && (reply.Status == 401 || reply.Status == 403) {
		// Platforms word auth refusals in many ways (or send an empty
		// body); say plainly what the operator has to fix.
		reply.Message += authHint
	}
	resp := &store.UploadResponse{Status: reply.Status, Body: reply.Body, ReceivedAt: p.d.Wall(), Unknown: p.unknown(reply)}
	if reply.Class != OK {
		resp.Error = reply.Message
	}
	if reply.Class == OK || reply.Class == Reject || resp.Unknown {
		resp.Settles = c.resend // this answer decides what the resend was for
	}
	p.apply(c, reply, attempt)
	if err := p.d.DB.FinishUploadRequest(bg, id, resp, owners); err != nil {
		return nil, err
	}
	return reply, nil
}

// unbuildable fails the cells of a chunk the adapter cannot encode (an
// event name or value over the platform's limit, say): nothing was sent,
// each such cell is marked failed with the reason and skipped for the rest
// of the run, and the platform goes on with its other cells. A chunk of
// several cells is first split by cell and each part handed to again
// (deliver or the dry run's write), so one bad cell fails alone. A later
// run (after the fix) retries the failed cells.
func (p *platformRun) unbuildable(ctx context.Context, c chunk, err error, again func(context.Context, chunk) error) error {
	if parts := c.byCell(); len(parts) > 1 {
		for _, one := range parts {
			if err := again(ctx, one); err != nil {
				return err
			}
		}
		return nil
	}
	u := c.owner[0]
	p.skip[u.Cell] = true
	p.log.Error("cell cannot be sent", "day", u.Day, "err", err)
	if c.resend != nil {
		return nil // its conversions stay uncertain
	}
	p.sum.Failed += u.Remaining()
	fail(u, err.Error())
	return p.d.DB.SaveUploads(context.WithoutCancel(ctx), []*store.Upload{u}, p.d.Now())
}
