package batch

import (
	"context"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	top := func(n int64) int64 { return n - 1 }
	zero := func(int64) int64 { return 0 }
	base, max := 500*time.Millisecond, 4*time.Second
	tests := []struct {
		n          int
		retryAfter time.Duration
		jitter     func(int64) int64
		want       time.Duration
	}{
		{1, 0, top, 500 * time.Millisecond},
		{2, 0, top, time.Second},
		{3, 0, top, 2 * time.Second},
		{4, 0, top, 4 * time.Second},
		{9, 0, top, 4 * time.Second}, // capped
		{3, 0, zero, 0},              // full jitter reaches zero
		{1, 30 * time.Second, zero, 30 * time.Second},
		{1, time.Hour, zero, DefaultMaxRetryAfter},
		{4, time.Second, top, 4 * time.Second}, // the larger wins
	}
	for _, tt := range tests {
		if got := backoff(tt.n, base, max, tt.retryAfter, tt.jitter); got != tt.want {
			t.Errorf("backoff(%d, retryAfter %v) = %v, want %v", tt.n, tt.retryAfter, got, tt.want)
		}
	}
}

func TestSleepCtxCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); err != context.Canceled {
		t.Errorf("err = %v", err)
	}
}
