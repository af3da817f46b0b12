package batch

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff defaults: exponential from 500 ms, capped at one minute; a
// Retry-After longer than MaxRetryAfter is cut to it so one answer cannot
// park a run for hours.
const (
	DefaultBaseBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff    = time.Minute
	DefaultMaxRetryAfter = 5 * time.Minute
)

// backoff returns the wait before retry number n (1 after the first
// failure): full jitter over min(max, base·2^(n-1)), and never less than the
// platform's Retry-After.
func backoff(n int, base, max time.Duration, retryAfter time.Duration, jitter func(int64) int64) time.Duration {
	ceil := base
	for i := 1; i < n && ceil < max; i++ {
		ceil *= 2
	}
	if ceil > max {
		ceil = max
	}
	d := time.Duration(jitter(int64(ceil) + 1))
	if retryAfter > DefaultMaxRetryAfter {
		retryAfter = DefaultMaxRetryAfter
	}
	if retryAfter > d {
		d = retryAfter
	}
	return d
}

// defaultJitter returns a uniform value in [0, n).
func defaultJitter(n int64) int64 { return rand.Int64N(n) }

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
