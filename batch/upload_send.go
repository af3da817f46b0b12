package batch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tally-health/tally/store"
)

// deliver sends one chunk until it is resolved: acknowledged, retried up to
// MaxAttempts, bisected when the platform rejects the whole batch, or given
// up. Ledger state is committed with every answer. It returns an error only
// when the platform (or the run) must stop.
func (p *platformRun) deliver(ctx context.Context, c chunk) error {
	req, err := p.t.Uploader.Build(p.batchOf(c))
	if err != nil {
		return p.unbuildable(ctx, c, err)
	}
	for attempt := 1; ; attempt++ {
		if err := p.limiter.Wait(ctx); err != nil {
			return err
		}
		reply, err := p.send(ctx, c, req, attempt)
		if err != nil {
			return err
		}
		switch {
		case reply.Class == OK:
			p.rejectStreak = 0
			return nil
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
		Attempt: attempt, SentAt: p.d.Now(), Parts: c.parts(),
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
	resp := &store.UploadResponse{Status: reply.Status, Body: reply.Body, ReceivedAt: p.d.Now()}
	if reply.Class != OK {
		resp.Error = reply.Message
	}
	p.apply(c, reply, attempt)
	if err := p.d.DB.FinishUploadRequest(bg, id, resp, owners); err != nil {
		return nil, err
	}
	return reply, nil
}

// apply moves the ledger rows of c according to the answer, in memory; the
// caller commits them with the answer.
func (p *platformRun) apply(c chunk, reply *Reply, attempt int) {
	switch {
	case reply.Class == OK:
		for k, conv := range c.conv {
			u := c.owner[k]
			if msg, bad := reply.Rejected[k]; bad {
				p.rejectOne(c, k, msg)
				continue
			}
			u.Next = conv.Index + 1
			u.Acked++
			p.sum.Sent++
			settle(u)
		}
		if p.d.Progress != nil {
			p.d.Progress(p.spec.Platform, len(c.conv))
		}
	case reply.Class == Reject && len(c.conv) == 1:
		p.rejectOne(c, 0, reply.Message)
		if p.d.Progress != nil {
			p.d.Progress(p.spec.Platform, 1)
		}
	case reply.Class == Fatal:
		for _, u := range c.owners() {
			u.State, u.LastError = store.UploadFailed, reply.Message
		}
	case reply.Class == Retry && attempt >= p.t.MaxAttempts:
		for _, u := range c.owners() {
			u.State, u.LastError = store.UploadFailed, fmt.Sprintf("gave up after %d attempts: %s", attempt, reply.Message)
		}
	}
}

// unbuildable stops the platform when the adapter cannot encode a chunk
// (a configuration problem such as an invalid event name): nothing was
// sent, the cells are marked failed with the reason, and a later run after
// the fix sends them.
func (p *platformRun) unbuildable(ctx context.Context, c chunk, err error) error {
	for _, u := range c.owners() {
		u.State, u.LastError = store.UploadFailed, err.Error()
	}
	if serr := p.d.DB.SaveUploads(context.WithoutCancel(ctx), c.owners(), p.d.Now()); serr != nil {
		return serr
	}
	return fmt.Errorf("%w: %v", errStopped, err)
}

// rejectOne resolves conversion k of c as refused for good.
func (p *platformRun) rejectOne(c chunk, k int, msg string) {
	u := c.owner[k]
	u.Next = c.conv[k].Index + 1
	u.Rejected++
	u.LastError = msg
	p.sum.Failed++
	settle(u)
}

// settle sets a row's state from its counts.
func settle(u *store.Upload) {
	switch {
	case u.Next < u.Count:
		u.State = store.UploadPending
	case u.Rejected > 0:
		u.State = store.UploadFailed
	default:
		u.State = store.UploadSent
	}
}

// dryRun writes each request body, exactly as it would be sent, to
// <outbox>/<platform>/<run time>-<n>.json and marks the cells dry_run.
func (p *platformRun) dryRun(ctx context.Context, ups []*store.Upload) error {
	dir := filepath.Join(p.d.Outbox, p.spec.Platform)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	stamp := p.d.Now().UTC().Format("20060102T150405Z")
	seq := 0
	var stop error
	err := p.chunks(ups, func(c chunk) bool {
		if stop = ctx.Err(); stop != nil {
			return false
		}
		req, err := p.t.Uploader.Build(p.batchOf(c))
		if err != nil {
			stop = p.unbuildable(ctx, c, err)
			return false
		}
		seq++
		path := filepath.Join(dir, fmt.Sprintf("%s-%06d.json", stamp, seq))
		if stop = os.WriteFile(path, req.Body, 0o640); stop != nil {
			stop = fmt.Errorf("dry run: %w", stop)
			return false
		}
		for _, u := range c.owners() {
			u.State, u.LastError = store.UploadDryRun, ""
		}
		p.sum.DryRun += len(c.conv)
		if p.d.Progress != nil {
			p.d.Progress(p.spec.Platform, len(c.conv))
		}
		stop = p.d.DB.SaveUploads(context.WithoutCancel(ctx), c.owners(), p.d.Now())
		return stop == nil
	})
	if err != nil {
		return err
	}
	return stop
}
