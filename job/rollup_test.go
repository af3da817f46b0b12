package job

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store/storetest"
)

// TestRollupOfADayNotDueIsUsage: asking to seal a day that is not due is
// the operator's mistake (exit 2), not a failure; nothing is sealed, the
// lock is free again, and the output says what was due.
func TestRollupOfADayNotDueIsUsage(t *testing.T) {
	db := storetest.Open(t)
	now := func() time.Time { return time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC) }
	r := &batch.Roller{DB: db, Loc: time.UTC, CloseAfter: 3 * time.Hour, Now: now, Wall: now}
	var out bytes.Buffer
	err := Rollup{DB: db, Roller: r, Lock: Lock{Log: quiet}, RetentionDays: 35, Out: &out, Log: quiet}.
		Do(context.Background(), "2026-11-02", "2026-11-02")
	if k := tally.KindOf(err); err == nil || k != tally.KindUsage {
		t.Fatalf("rollup of a day not due: %v (kind %v), want KindUsage", err, k)
	}
	if !strings.Contains(out.String(), "nothing to seal: every day up to 2026-11-01") {
		t.Errorf("output: %q", out.String())
	}
	release, err := Lock{Log: quiet}.Take(context.Background(), db, "run")
	if err != nil {
		t.Fatalf("lock still held after the rollup: %v", err)
	}
	release()
}
