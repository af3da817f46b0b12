package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tally-health/tally"
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
	Day tally.Day
	// Outbox is the folder dry runs write request bodies to.
	Outbox string
	// ResendUncertain resends, once, the conversions of at-most-once
	// platforms whose earlier request had an unknown outcome (the
	// operator's `tally upload --resend-uncertain`).
	ResendUncertain bool

	// Now is the run's as-of clock (--now): the ledger's row times.
	Now func() time.Time
	// Wall is the real time. The platforms judge event times against it
	// when a request arrives, so every window check reads it, right
	// before each request, never Now.
	Wall   func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(n int64) int64 // uniform in [0, n)
	// BaseBackoff and MaxBackoff tune retries (defaults 500 ms and 1 min).
	BaseBackoff, MaxBackoff time.Duration
	// Progress, when set, is told how many conversions each platform
	// resolved; it is called from the platforms' goroutines.
	Progress func(platform tally.Platform, conversions int)
}

// Summary is what one platform's run did, in conversions (Requests and
// Retries count HTTP requests).
type Summary struct {
	Platform tally.Platform
	Sent     int // acknowledged
	Failed   int // rejected for good, or left unsent by a failure
	Expired  int // past the platform's window, never sent
	DryRun   int // written to the outbox
	// Uncertain counts conversions sent in this run whose outcome is
	// unknown; they are not resent without ResendUncertain.
	Uncertain int
	// UncertainOpen is every conversion of the platform (of Day, when set)
	// whose outcome is still unknown after the run.
	UncertainOpen int
	Requests      int
	Retries       int
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
	if d.Wall == nil {
		d.Wall = time.Now
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

// runTarget queues the platform's released cells, resends uncertain ones
// when asked, expires those past its window and delivers the rest in
// batches.
func (d *Delivery) runTarget(ctx context.Context, t Target) Summary {
	spec := t.Uploader.Spec()
	sum := Summary{Platform: spec.Platform}
	log := d.Log.With("platform", spec.Platform)
	p := &platformRun{d: d, t: t, spec: spec, sum: &sum, log: log, ids: newIder(d.Key),
		limiter: rate.NewLimiter(rate.Limit(t.Rate), 1), skip: map[tally.Cell]bool{}}
	sum.Err = d.deliverTarget(ctx, p)
	if sum.Err != nil {
		log.Error("upload stopped", "err", sum.Err)
	}
	open, err := d.DB.UncertainTotal(context.WithoutCancel(ctx), spec.Platform, d.Day)
	if err != nil && sum.Err == nil {
		sum.Err = err
	}
	sum.UncertainOpen = open
	log.Info("upload done", "sent", sum.Sent, "failed", sum.Failed, "expired", sum.Expired,
		"uncertain", sum.Uncertain, "uncertain_open", sum.UncertainOpen,
		"dry_run", sum.DryRun, "requests", sum.Requests, "retries", sum.Retries)
	return sum
}

// deliverTarget does runTarget's work and returns why it stopped early.
func (d *Delivery) deliverTarget(ctx context.Context, p *platformRun) error {
	if _, err := d.DB.QueueUploads(ctx, p.spec.Platform, d.Day, d.Now()); err != nil {
		return err
	}
	if p.spec.AtMostOnce {
		// A request recorded but never answered was in flight when an
		// earlier run died: the platform may have counted it.
		n, err := d.DB.SettleUnanswered(context.WithoutCancel(ctx), p.spec.Platform, d.Wall())
		if err != nil {
			return err
		}
		if n > 0 {
			p.log.Warn("unanswered request from an earlier run: conversions uncertain, not resent (see tally upload --resend-uncertain)",
				"conversions", n)
		}
	}
	if d.ResendUncertain && !p.t.DryRun {
		// First, so the rows read below include what the resend settled.
		if err := p.resendUncertain(ctx); err != nil {
			return err
		}
	}
	ups, err := d.DB.UnfinishedUploads(ctx, p.spec.Platform, d.Day, p.t.DryRun)
	if err != nil {
		return err
	}
	live, err := d.expire(ctx, p.spec, ups, p.sum)
	if err != nil || len(live) == 0 {
		return err
	}
	if p.t.DryRun {
		return p.dryRun(ctx, live)
	}
	return p.deliverAll(ctx, live)
}

// expire marks cells whose event time is past the platform's window, by
// the wall clock, as expired (never sent) and returns the others. Each
// request checks again right before it is sent (platformRun.expired).
func (d *Delivery) expire(ctx context.Context, spec Spec, ups []*store.Upload, sum *Summary) ([]*store.Upload, error) {
	wall := d.Wall()
	var live, dead []*store.Upload
	for _, u := range ups {
		msg, err := d.pastWindow(spec, u.Day, wall)
		if err != nil {
			return nil, err
		}
		if msg == "" {
			live = append(live, u)
			continue
		}
		sum.Expired += u.Remaining()
		u.State, u.LastError = tally.Expired, msg
		dead = append(dead, u)
	}
	if len(dead) > 0 {
		if err := d.DB.SaveUploads(context.WithoutCancel(ctx), dead, d.Now()); err != nil {
			return nil, err
		}
		d.Log.Warn("cells expired", "platform", spec.Platform, "cells", len(dead), "conversions", sum.Expired)
	}
	return live, nil
}

// pastWindow says why day's conversions are past spec's window at the
// wall-clock instant wall, or "" when they are not.
func (d *Delivery) pastWindow(spec Spec, day tally.Day, wall time.Time) (string, error) {
	at, err := EventTime(day, d.Loc)
	if err != nil {
		return "", err
	}
	if wall.Sub(at) <= spec.Window {
		return "", nil
	}
	return fmt.Sprintf("event time %s is past %s's %s window at %s (wall clock); not sent",
		at.UTC().Format(time.RFC3339), spec.Platform, spec.Window, wall.UTC().Format(time.RFC3339)), nil
}
