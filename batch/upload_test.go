package batch_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// fake is a scripted Uploader: Build encodes the conversions as JSON and
// answer decides each reply.
type fake struct {
	spec   batch.Spec
	mu     sync.Mutex
	calls  [][]batch.Conversion
	answer func(call int, items []batch.Conversion) *batch.Reply
}

func (f *fake) Spec() batch.Spec { return f.spec }

func (f *fake) Build(b *batch.Batch) (*batch.Request, error) {
	body, err := json.Marshal(b.Items)
	return &batch.Request{Method: http.MethodPost, URL: "http://fake/" + string(f.spec.Platform), Body: body}, err
}

func (f *fake) Send(_ context.Context, r *batch.Request) *batch.Reply {
	var items []batch.Conversion
	if err := json.Unmarshal(r.Body, &items); err != nil {
		panic(err)
	}
	f.mu.Lock()
	f.calls = append(f.calls, items)
	n := len(f.calls)
	f.mu.Unlock()
	if f.answer == nil {
		return &batch.Reply{Class: batch.OK, Status: 200, Body: []byte(`{"ok":true}`)}
	}
	return f.answer(n, items)
}

// acked returns the event ids of every call that answer let through.
func (f *fake) sentIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, c := range f.calls {
		for _, it := range c {
			ids = append(ids, it.EventID)
		}
	}
	return ids
}

var (
	day = tally.Day("2026-11-20")
	now = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
)

func newFake(platform tally.Platform, max int) *fake {
	return &fake{spec: batch.Spec{Platform: platform, MaxBatch: max, Window: 7 * 24 * time.Hour}}
}

// always answers every request with r.
func always(r batch.Reply) func(int, []batch.Conversion) *batch.Reply {
	return func(int, []batch.Conversion) *batch.Reply { c := r; return &c }
}

// booking is a released cell of n "booking" conversions on day.
func booking(platform tally.Platform, campaign string, n int) uploadertest.Released {
	return uploadertest.Released{Day: day, Platform: platform, Campaign: campaign, Conversion: "booking", N: n}
}

// seeded opens a database holding the released cells, and a delivery on
// it as of now.
func seeded(t *testing.T, cells ...uploadertest.Released) (*store.DB, *batch.Delivery) {
	t.Helper()
	db := storetest.Open(t)
	uploadertest.Seed(t, db, cells...)
	d, _ := uploadertest.Delivery(db, now)
	return db, d
}

// deliver runs d once for u alone, up to attempts tries a request, and
// returns its summary.
func deliver(t *testing.T, d *batch.Delivery, u batch.Uploader, attempts int) batch.Summary {
	return d.Run(t.Context(), []batch.Target{uploadertest.Target(u, attempts)})[0]
}

func TestDeliverBatchesAndLedger(t *testing.T) {
	db, d := seeded(t,
		booking("meta", "c1", 1500),
		uploadertest.Released{Day: day, Platform: "meta", Campaign: "c2", Conversion: "lead", N: 1000},
		booking("google", "c1", 50),
	)
	f := newFake("meta", 1000)
	sums := d.Run(t.Context(), []batch.Target{uploadertest.Target(f, 3)})
	s := sums[0]
	if s.Err != nil || s.Sent != 2500 || s.Requests != 3 || s.Retries != 0 || s.Failed != 0 {
		t.Fatalf("summary = %+v", s)
	}
	if got := []int{len(f.calls[0]), len(f.calls[1]), len(f.calls[2])}; !slices.Equal(got, []int{1000, 1000, 500}) {
		t.Errorf("batch sizes = %v", got)
	}
	ids := f.sentIDs()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("event id %s sent twice", id)
		}
		seen[id] = true
	}
	first := f.calls[0][0]
	if want := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC); !first.Time.Equal(want) {
		t.Errorf("event time = %v, want %v", first.Time, want)
	}
	if want := batch.EventID(uploadertest.Key, "meta", day, "c1", "booking", 0); first.EventID != want {
		t.Errorf("event id = %q, want keyed %q", first.EventID, want)
	}
	if first.ExternalID == "" || first.ExternalID == first.EventID {
		t.Errorf("external id %q must be set and differ from the event id", first.ExternalID)
	}
	for _, u := range uploadertest.Uploads(t, db, "meta") {
		if u.State != tally.Sent || u.Next != u.Count || u.Acked != u.Count {
			t.Errorf("upload %+v, want sent and fully acked", u)
		}
	}
	// The google cell was not a target of this run and stays untouched.
	if got := uploadertest.Uploads(t, db, "google"); len(got) != 0 {
		t.Errorf("google uploads = %+v, want none queued", got)
	}
	reqs, err := db.UploadRequests(t.Context(), "meta")
	if err != nil || len(reqs) != 3 || reqs[0].Status.Int64 != 200 || reqs[0].Body == "" {
		t.Fatalf("upload_requests = %d rows (%v)", len(reqs), err)
	}
	// A second run finds nothing to do.
	f2 := newFake("meta", 1000)
	if s := deliver(t, d, f2, 3); s.Requests != 0 || len(f2.calls) != 0 {
		t.Errorf("second run sent %d requests", s.Requests)
	}
}

func TestDeliverPerCell(t *testing.T) {
	_, d := seeded(t, booking("google", "a", 30), booking("google", "b", 12))
	f := newFake("google", 25)
	f.spec.PerCell = true
	deliver(t, d, f, 3)
	var sizes []int
	for _, c := range f.calls {
		sizes = append(sizes, len(c))
		for _, it := range c {
			if it.Campaign != c[0].Campaign {
				t.Fatalf("request mixes cells %q and %q", c[0].Campaign, it.Campaign)
			}
		}
	}
	if !slices.Equal(sizes, []int{25, 5, 12}) {
		t.Errorf("sizes = %v, want [25 5 12]", sizes)
	}
}

func TestDeliverRetriesHonourRetryAfter(t *testing.T) {
	db := storetest.Open(t)
	uploadertest.Seed(t, db, booking("meta", "c", 20))
	d, sleeps := uploadertest.Delivery(db, now)
	f := newFake("meta", 1000)
	f.answer = func(call int, _ []batch.Conversion) *batch.Reply {
		switch call {
		case 1:
			return &batch.Reply{Class: batch.Retry, Status: 429, RetryAfter: 7 * time.Second, Message: "slow down"}
		case 2:
			return &batch.Reply{Class: batch.Retry, Status: 503, Message: "unavailable"}
		}
		return &batch.Reply{Class: batch.OK, Status: 200}
	}
	s := deliver(t, d, f, 5)
	if s.Sent != 20 || s.Requests != 3 || s.Retries != 2 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	// Jitter picks the ceiling: first wait max(500ms, 7s), second 1s.
	if got := sleeps.All(); !slices.Equal(got, []time.Duration{7 * time.Second, time.Second}) {
		t.Errorf("sleeps = %v", got)
	}
	u := uploadertest.Uploads(t, db, "meta")[0]
	if u.Attempts != 3 || u.State != tally.Sent {
		t.Errorf("upload = %+v", u)
	}
}

func TestDeliverGivesUpThenResumes(t *testing.T) {
	db := storetest.Open(t)
	uploadertest.Seed(t, db,
		booking("tiktok", "a", 10),
		booking("tiktok", "b", 10),
	)
	d, sleeps := uploadertest.Delivery(db, now)
	f := newFake("tiktok", 10)
	f.answer = always(batch.Reply{Class: batch.Retry, Status: 500, Message: "boom"})
	s := deliver(t, d, f, 4)
	if s.Requests != 4 || s.Failed != 20 || !strings.Contains(s.Err.Error(), "gave up after 4 attempts: boom") {
		t.Fatalf("summary = %+v", s)
	}
	if len(sleeps.All()) != 3 {
		t.Errorf("sleeps = %v, want 3", sleeps.All())
	}
	ups := uploadertest.Uploads(t, db, "tiktok")
	if ups[0].State != tally.Failed || !strings.Contains(ups[0].LastError, "gave up") ||
		ups[1].State != tally.Failed || !strings.Contains(ups[1].LastError, "not sent") {
		t.Fatalf("uploads = %+v", ups)
	}
	// The platform recovers: the next run sends everything.
	f2 := newFake("tiktok", 10)
	if s := deliver(t, d, f2, 4); s.Sent != 20 {
		t.Fatalf("resume summary = %+v", s)
	}
	for _, u := range uploadertest.Uploads(t, db, "tiktok") {
		if u.State != tally.Sent {
			t.Errorf("after resume %+v", u)
		}
	}
}

func TestDeliverBisectsWholeBatchRejection(t *testing.T) {
	db, d := seeded(t, booking("meta", "c", 100))
	bad := batch.EventID(uploadertest.Key, "meta", day, "c", "booking", 37)
	f := newFake("meta", 1000)
	acked := map[string]int{}
	f.answer = func(_ int, items []batch.Conversion) *batch.Reply {
		for _, it := range items {
			if it.EventID == bad {
				return &batch.Reply{Class: batch.Reject, Status: 400, Message: "meta: code 100: Invalid parameter"}
			}
		}
		for _, it := range items {
			acked[it.EventID]++
		}
		return &batch.Reply{Class: batch.OK, Status: 200}
	}
	s := deliver(t, d, f, 3)
	if s.Sent != 99 || s.Failed != 1 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	if len(acked) != 99 || acked[bad] != 0 {
		t.Errorf("acked %d ids (bad acked %d), want 99", len(acked), acked[bad])
	}
	for id, n := range acked {
		if n != 1 {
			t.Errorf("id %s acked %d times", id, n)
		}
	}
	u := uploadertest.Uploads(t, db, "meta")[0]
	if u.State != tally.Partial || u.Acked != 99 || u.Rejected != 1 || u.Next != 100 || !strings.Contains(u.LastError, "Invalid parameter") {
		t.Errorf("upload = %+v", u)
	}
	if s.Requests > 20 {
		t.Errorf("bisection took %d requests", s.Requests)
	}
}

func TestDeliverStopsAfterRejectStreak(t *testing.T) {
	_, d := seeded(t, booking("meta", "c", 1000))
	f := newFake("meta", 1000)
	f.answer = always(batch.Reply{Class: batch.Reject, Status: 400, Message: "everything is wrong"})
	s := deliver(t, d, f, 3)
	if s.Err == nil || !strings.Contains(s.Err.Error(), "in a row") || s.Requests > 40 {
		t.Fatalf("summary = %+v", s)
	}
}

func TestDeliverFatalStopsPlatformOnly(t *testing.T) {
	db, d := seeded(t, booking("linkedin", "a", 5), booking("linkedin", "b", 5), booking("meta", "a", 5))
	li := newFake("linkedin", 5)
	li.answer = always(batch.Reply{Class: batch.Fatal, Status: 401, Message: "linkedin: token expired"})
	meta := newFake("meta", 1000)
	sums := d.Run(t.Context(), []batch.Target{uploadertest.Target(li, 8), uploadertest.Target(meta, 8)})
	if sums[0].Requests != 1 || sums[0].Failed != 10 || sums[0].Err == nil {
		t.Errorf("linkedin = %+v", sums[0])
	}
	if sums[1].Sent != 5 || sums[1].Err != nil {
		t.Errorf("meta = %+v", sums[1])
	}
	ups := uploadertest.Uploads(t, db, "linkedin")
	const msg = "linkedin: token expired (credential refused: check the token or API secret and its permissions)"
	if ups[0].LastError != msg || !strings.Contains(ups[1].LastError, "not sent: platform stopped: "+msg) {
		t.Errorf("linkedin uploads = %+v", ups)
	}
}

func TestDeliverExpiresOldCells(t *testing.T) {
	db, d := seeded(t,
		uploadertest.Released{Day: "2026-11-10", Platform: "meta", Campaign: "old", Conversion: "booking", N: 12},
		booking("meta", "new", 12),
	)
	f := newFake("meta", 1000)
	s := deliver(t, d, f, 3)
	if s.Expired != 12 || s.Sent != 12 {
		t.Fatalf("summary = %+v", s)
	}
	for _, c := range f.calls {
		for _, it := range c {
			if it.Campaign == "old" {
				t.Fatal("expired cell was sent")
			}
		}
	}
	if u := uploadertest.Uploads(t, db, "meta")[0]; u.Campaign != "old" || u.State != tally.Expired || !strings.Contains(u.LastError, "window") {
		t.Errorf("old upload = %+v", u)
	}
}

func TestDeliverCancelStopsBetweenRequests(t *testing.T) {
	db, d := seeded(t, booking("meta", "c", 3000))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFake("meta", 1000)
	f.answer = func(int, []batch.Conversion) *batch.Reply {
		cancel() // the run is interrupted while this request is in flight
		return &batch.Reply{Class: batch.OK, Status: 200}
	}
	s := d.Run(ctx, []batch.Target{uploadertest.Target(f, 3)})[0]
	if !errors.Is(s.Err, context.Canceled) || s.Requests != 1 || s.Sent != 1000 {
		t.Fatalf("summary = %+v", s)
	}
	// The in-flight request's acknowledgement was kept; the rest waits.
	u := uploadertest.Uploads(t, db, "meta")[0]
	if u.Next != 1000 || u.Acked != 1000 || u.State != tally.Pending {
		t.Fatalf("upload = %+v", u)
	}
	f2 := newFake("meta", 1000)
	if s := deliver(t, d, f2, 3); s.Sent != 2000 || f2.calls[0][0].Index != 1000 {
		t.Fatalf("resume = %+v", s)
	}
}

func TestDeliverPlatformsRunIndependently(t *testing.T) {
	_, d := seeded(t, booking("meta", "c", 12), booking("tiktok", "c", 12))
	tiktokDone := make(chan struct{})
	slow := newFake("meta", 1000)
	slow.answer = func(int, []batch.Conversion) *batch.Reply {
		// Meta answers only after TikTok has finished: were the platforms
		// run one after the other, this would time out.
		select {
		case <-tiktokDone:
			return &batch.Reply{Class: batch.OK, Status: 200}
		case <-time.After(10 * time.Second):
			return &batch.Reply{Class: batch.Fatal, Message: "tiktok never finished"}
		}
	}
	fast := newFake("tiktok", 1000)
	fast.answer = func(int, []batch.Conversion) *batch.Reply {
		defer close(tiktokDone)
		return &batch.Reply{Class: batch.OK, Status: 200}
	}
	sums := d.Run(t.Context(), []batch.Target{uploadertest.Target(slow, 1), uploadertest.Target(fast, 1)})
	if sums[0].Sent != 12 || sums[1].Sent != 12 {
		t.Fatalf("summaries = %+v", sums)
	}
}

func TestDryRunWritesOutbox(t *testing.T) {
	db, d := seeded(t, booking("meta", "c", 1200))
	d.Outbox = t.TempDir()
	f := newFake("meta", 1000)
	target := uploadertest.Target(f, 3)
	target.DryRun = true
	s := d.Run(t.Context(), []batch.Target{target})[0]
	if s.DryRun != 1200 || s.Requests != 0 || len(f.calls) != 0 {
		t.Fatalf("summary = %+v, calls %d", s, len(f.calls))
	}
	files, _ := filepath.Glob(filepath.Join(d.Outbox, "meta", "*.json"))
	if len(files) != 2 {
		t.Fatalf("outbox files = %v", files)
	}
	body, _ := os.ReadFile(files[0])
	want, _ := f.Build(&batch.Batch{Items: mustItems(t, body)})
	if string(body) != string(want.Body) {
		t.Error("outbox body differs from the request body")
	}
	if u := uploadertest.Uploads(t, db, "meta")[0]; u.State != tally.DryRun || u.Next != 0 {
		t.Errorf("upload = %+v", u)
	}
	// A dry run does not repeat itself; a real run then sends everything.
	if s := d.Run(t.Context(), []batch.Target{target})[0]; s.DryRun != 0 {
		t.Errorf("second dry run = %+v", s)
	}
	if s := deliver(t, d, f, 3); s.Sent != 1200 {
		t.Errorf("real run after dry run = %+v", s)
	}
}

func mustItems(t *testing.T, body []byte) []batch.Conversion {
	var items []batch.Conversion
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatal(err)
	}
	return items
}

func TestEventIDsAreKeyedAndDistinct(t *testing.T) {
	a := batch.EventID(uploadertest.Key, "meta", day, "c", "booking", 1)
	if a != batch.EventID(uploadertest.Key, "meta", day, "c", "booking", 1) {
		t.Error("event id is not deterministic")
	}
	for _, other := range []string{
		batch.EventID(uploadertest.Key, "tiktok", day, "c", "booking", 1),
		batch.EventID(uploadertest.Key, "meta", "2026-11-21", "c", "booking", 1),
		batch.EventID(uploadertest.Key, "meta", day, "c2", "booking", 1),
		batch.EventID(uploadertest.Key, "meta", day, "c", "lead", 1),
		batch.EventID(uploadertest.Key, "meta", day, "c", "booking", 2),
		batch.EventID([]byte("another-key-0123456789"), "meta", day, "c", "booking", 1),
		// NUL separators: moving a character between fields changes the id.
		batch.EventID(uploadertest.Key, "meta", day, "cb", "ooking", 1),
	} {
		if other == a {
			t.Errorf("collision: %s", other)
		}
	}
}

func TestEventTimeIsNoonInRollupZone(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	got, err := batch.EventTime("2026-11-20", ny)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got.UTC(), want)
	}
	if _, err := batch.EventTime("20-11-2026", ny); err == nil {
		t.Error("bad day accepted")
	}
}
