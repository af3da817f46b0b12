package batch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// A cell with 29 of 30 delivered is partial, not failed.
func TestDeliverPartialCell(t *testing.T) {
	db, d := seeded(t, booking("linkedin", "c", 30))
	f := newFake("linkedin", 100)
	f.answer = always(batch.Reply{Class: batch.OK, Status: 200, Rejected: map[int]string{17: "linkedin: element status 400"}})
	s := deliver(t, d, f, 3)
	if s.Sent != 29 || s.Failed != 1 {
		t.Fatalf("summary = %+v", s)
	}
	u := uploadertest.Uploads(t, db, "linkedin")[0]
	if u.State != tally.Partial || u.Acked != 29 || u.Rejected != 1 || !strings.Contains(u.LastError, "element status 400") {
		t.Fatalf("upload = %+v, want partial with the refusal", u)
	}
}

// A later success clears the error an earlier failure left.
func TestDeliverSuccessClearsLastError(t *testing.T) {
	db, d := seeded(t, booking("meta", "c", 12))
	down := newFake("meta", 1000)
	down.answer = always(batch.Reply{Class: batch.Retry, Status: 503, Message: "meta: unavailable"})
	deliver(t, d, down, 2)
	if u := uploadertest.Uploads(t, db, "meta")[0]; u.State != tally.Failed || !strings.Contains(u.LastError, "gave up") {
		t.Fatalf("after the failure: %+v", u)
	}
	deliver(t, d, newFake("meta", 1000), 2)
	if u := uploadertest.Uploads(t, db, "meta")[0]; u.State != tally.Sent || u.LastError != "" {
		t.Fatalf("after the success: %+v, want sent with no last_error", u)
	}
}

// unbuildable is a fake whose Build refuses one campaign.
type unbuildable struct {
	*fake
	bad string
}

func (u *unbuildable) Build(b *batch.Batch) (*batch.Request, error) {
	for _, it := range b.Items {
		if it.Campaign == u.bad {
			return nil, errors.New("fake: campaign over the limit")
		}
	}
	return u.fake.Build(b)
}

// A cell that cannot be built fails alone, even inside a request shared
// with other cells; the platform's other cells are sent.
func TestDeliverUnbuildableCellFailsAlone(t *testing.T) {
	db, d := seeded(t, booking("meta", "a", 12), booking("meta", "b", 12), booking("meta", "c", 30))
	f := &unbuildable{fake: newFake("meta", 20), bad: "b"}
	s := deliver(t, d, f, 3)
	if s.Sent != 42 || s.Failed != 12 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	for _, c := range f.calls {
		for _, it := range c {
			if it.Campaign == "b" {
				t.Fatal("a conversion of the bad cell was sent")
			}
		}
	}
	for _, u := range uploadertest.Uploads(t, db, "meta") {
		switch {
		case u.Campaign == "b" && (u.State != tally.Failed || u.Next != 0 || !strings.Contains(u.LastError, "over the limit")):
			t.Errorf("bad cell = %+v", u)
		case u.Campaign != "b" && (u.State != tally.Sent || u.Acked != u.Count):
			t.Errorf("good cell = %+v", u)
		}
	}
	// After the fix, the next run sends the failed cell.
	s = deliver(t, d, newFake("meta", 20), 3)
	if s.Sent != 12 {
		t.Fatalf("after the fix: %+v", s)
	}
}

// Windows follow the wall clock, not --now: a backfill as of a past day
// on a later machine clock does not send what the platform would drop.
func TestDeliverWindowFollowsWallClock(t *testing.T) {
	db, d := seeded(t, booking("google", "c", 12)) // as of the day after
	d.Wall = func() time.Time { return now.Add(5 * 24 * time.Hour) }
	f := newFake("google", 25)
	f.spec.Window = 71 * time.Hour
	s := deliver(t, d, f, 3)
	if len(f.calls) != 0 || s.Expired != 12 {
		t.Fatalf("summary = %+v, %d requests", s, len(f.calls))
	}
	if u := uploadertest.Uploads(t, db, "google")[0]; u.State != tally.Expired || !strings.Contains(u.LastError, "wall clock") {
		t.Fatalf("upload = %+v", u)
	}
}

// The window is judged before each request, retries included: a retry
// that backoff carried past the window is not sent.
func TestDeliverWindowCheckedAtEachRequest(t *testing.T) {
	db, d := seeded(t, booking("meta", "c", 12))
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) // the cell's event time
	wall := at.Add(70*time.Hour + 59*time.Minute)
	d.Wall = func() time.Time { return wall }
	d.Sleep = func(_ context.Context, w time.Duration) error { wall = wall.Add(w); return nil }
	d.Jitter = func(int64) int64 { return int64(2 * time.Minute) }
	f := newFake("meta", 1000)
	f.spec.Window = 71 * time.Hour
	f.answer = always(batch.Reply{Class: batch.Retry, Status: 503, Message: "meta: unavailable"})
	s := deliver(t, d, f, 5)
	if len(f.calls) != 1 || s.Expired != 12 {
		t.Fatalf("summary = %+v, %d requests", s, len(f.calls))
	}
	if u := uploadertest.Uploads(t, db, "meta")[0]; u.State != tally.Expired {
		t.Fatalf("upload = %+v", u)
	}
}

// Platforms that deduplicate by event id retry an unknown outcome as before.
func TestDeliverDedupPlatformRetriesUnknown(t *testing.T) {
	_, d := seeded(t, booking("meta", "c", 12))
	f := newFake("meta", 1000)
	f.answer = func(call int, _ []batch.Conversion) *batch.Reply {
		if call == 1 {
			return &batch.Reply{Class: batch.Retry, Status: 500, Message: "meta: boom", Unknown: true}
		}
		return &batch.Reply{Class: batch.OK, Status: 200}
	}
	s := deliver(t, d, f, 3)
	if s.Sent != 12 || s.Requests != 2 || s.Uncertain != 0 {
		t.Fatalf("summary = %+v", s)
	}
}
