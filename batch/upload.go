package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tally-health/tally/store"
)

// Target is one platform to deliver to, with its delivery settings.
type Target struct {
	Uploader    Uploader
	MaxAttempts int
	Rate        float64 // requests per second
	DryRun      bool
}

// Delivery sends released cells to the platforms as synthetic conversions
// and keeps the ledger. The zero values of the function fields select the
// real clock, sleep and randomness; tests inject their own.
type Delivery struct {
	DB  *store.DB
	Key []byte         // keyed-hash secret for event and synthetic ids
	Loc *time.Location // rollup timezone
	Log *slog.Logger
	// Day limits the run to one day ("" = every day with work left).
	Day string
	// Outbox is the folder dry runs write request bodies to.
	Outbox string

	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(n int64) int64 // uniform in [0, n)
	// BaseBackoff and MaxBackoff tune retries (defaults 500 ms and 1 min).
	BaseBackoff, MaxBackoff time.Duration
	// Progress, when set, is told how many conversions each platform
	// resolved; it is called from the platforms' goroutines.
	Progress func(platform string, conversions int)
}

// Summary is what one platform's run did, in conversions (Requests and
// Retries count HTTP requests).
type Summary struct {
	Platform string
	Sent     int // acknowledged
	Failed   int // rejected for good, or left unsent by a failure
	Expired  int // past the platform's window, never sent
	DryRun   int // written to the outbox
	Requests int
	Retries  int
	// Err is why the platform stopped early (nil when it finished).
	Err error
}

// errStopped marks a platform that stopped after a fatal answer or retries
// running out; the rest of its cells wait for the next run.
var errStopped = errors.New("platform stopped")

// Run delivers to every target at once, each in its own goroutine with its
// own rate limit, so a slow or failing platform never delays another. It
// returns one Summary per target, in order.
func (d *Delivery) Run(ctx context.Context, targets []Target) []Summary {
	d.defaults()
	out := make([]Summary, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { out[i] = d.runTarget(ctx, t) })
	}
	wg.Wait()
	return out
}

func (d *Delivery) defaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = sleepCtx
	}
	if d.Jitter == nil {
		d.Jitter = defaultJitter
	}
	if d.BaseBackoff <= 0 {
		d.BaseBackoff = DefaultBaseBackoff
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = DefaultMaxBackoff
	}
	if d.Loc == nil {
		d.Loc = time.UTC
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
}

// runTarget queues the platform's released cells, expires those past its
// window and delivers the rest in batches.
func (d *Delivery) runTarget(ctx context.Context, t Target) Summary {
	spec := t.Uploader.Spec()
	sum := Summary{Platform: spec.Platform}
	log := d.Log.With("platform", spec.Platform)
	if _, err := d.DB.QueueUploads(ctx, spec.Platform, d.Day, d.Now()); err != nil {
		sum.Err = err
		return sum
	}
	ups, err := d.DB.UnfinishedUploads(ctx, spec.Platform, d.Day, t.DryRun)
	if err != nil {
		sum.Err = err
		return sum
	}
	live, err := d.expire(ctx, spec, ups, &sum)
	if err != nil {
		sum.Err = err
		return sum
	}
	if len(live) == 0 {
		return sum
	}
	p := &platformRun{d: d, t: t, spec: spec, sum: &sum, log: log, ids: newIder(d.Key)}
	if t.DryRun {
		err = p.dryRun(ctx, live)
	} else {
		err = p.deliverAll(ctx, live)
	}
	if err != nil {
		sum.Err = err
		log.Error("upload stopped", "err", err)
	}
	log.Info("upload done", "sent", sum.Sent, "failed", sum.Failed, "expired", sum.Expired,
		"dry_run", sum.DryRun, "requests", sum.Requests, "retries", sum.Retries)
	return sum
}

// expire marks cells whose event time is past the platform's window as
// expired (never sent) and returns the others.
func (d *Delivery) expire(ctx context.Context, spec Spec, ups []*store.Upload, sum *Summary) ([]*store.Upload, error) {
	now := d.Now()
	var live, dead []*store.Upload
	for _, u := range ups {
		at, err := EventTime(u.Day, d.Loc)
		if err != nil {
			return nil, err
		}
		if now.Sub(at) <= spec.Window {
			live = append(live, u)
			continue
		}
		sum.Expired += u.Remaining()
		u.State = store.UploadExpired
		u.LastError = fmt.Sprintf("event time %s is past %s's %s window; not sent", at.UTC().Format(time.RFC3339), spec.Platform, spec.Window)
		dead = append(dead, u)
	}
	if len(dead) > 0 {
		if err := d.DB.SaveUploads(context.WithoutCancel(ctx), dead, now); err != nil {
			return nil, err
		}
		d.Log.Warn("cells expired", "platform", spec.Platform, "cells", len(dead), "conversions", sum.Expired)
	}
	return live, nil
}
