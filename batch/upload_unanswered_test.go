package batch_test

import (
	"context"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// inFlight records a request for conversions [first, first+n) of cell as
// send does right before sending, and no answer: what the ledger holds
// after a process was killed (SIGKILL) with that request in flight.
func inFlight(t *testing.T, db *store.DB, c tally.Cell, first, n int) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := db.QueueUploads(ctx, c.Platform, "", now); err != nil {
		t.Fatal(err)
	}
	u, err := db.Upload(ctx, c)
	if err != nil || u == nil {
		t.Fatalf("upload %+v: %v", u, err)
	}
	u.Attempts++
	id, err := db.BeginUploadRequest(ctx, &store.UploadRequest{Platform: c.Platform, Method: "POST", URL: "http://fake/" + string(c.Platform),
		Body: []byte(`[]`), Attempt: 1, SentAt: now, Parts: []store.RequestPart{{Cell: c, First: first, N: n}}}, []*store.Upload{u})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// conversionsSent counts the conversions of f's calls with an index in
// [first, first+n).
func conversionsSent(f *fake, first, n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := 0
	for _, c := range f.calls {
		for _, it := range c {
			if it.Index >= first && it.Index < first+n {
				k++
			}
		}
	}
	return k
}

// A GA4 request recorded and never answered (the process was killed while
// it was in flight) may have been counted: the next run makes its
// conversions uncertain and does not send them; --resend-uncertain sends
// them once. A resend killed in flight stays uncertain too.
func TestUnansweredRequestIsUncertain(t *testing.T) {
	ctx := context.Background()
	db, d := seeded(t, booking("google", "c", 30))
	cell := tally.Cell{Day: day, Platform: "google", Campaign: "c", Conversion: "booking"}
	orphan := inFlight(t, db, cell, 0, 25)
	f := newFake("google", 25)
	f.spec.AtMostOnce = true
	target := uploadertest.Target(f, 3)

	s := d.Run(ctx, []batch.Target{target})[0]
	if k := conversionsSent(f, 0, 25); k != 0 {
		t.Fatalf("the unanswered request's conversions were sent again (%d)", k)
	}
	if s.Sent != 5 || s.UncertainOpen != 25 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	u := uploadertest.Uploads(t, db, "google")[0]
	if u.State != tally.Uncertain || u.Uncertain != 25 || u.Acked != 5 || u.Next != 30 {
		t.Fatalf("upload = %+v", u)
	}
	open, err := db.OpenUncertain(ctx, "google", "")
	if err != nil || len(open) != 1 || open[0].RequestID != orphan || open[0].First != 0 || open[0].N != 25 {
		t.Fatalf("open uncertain = %+v, %v", open, err)
	}
	if s := d.Run(ctx, []batch.Target{target})[0]; s.Requests != 0 {
		t.Fatalf("a plain rerun sent: %+v", s)
	}

	// The operator's resend is killed in flight too: still uncertain.
	resend := inFlight(t, db, cell, 0, 25)
	if s := d.Run(ctx, []batch.Target{target})[0]; s.Requests != 0 || s.UncertainOpen != 25 {
		t.Fatalf("after the killed resend: %+v", s)
	}
	if open, _ := db.OpenUncertain(ctx, "google", ""); len(open) != 1 || open[0].RequestID != resend {
		t.Fatalf("open uncertain = %+v, want the killed resend's own row", open)
	}

	d.ResendUncertain = true
	if s := d.Run(ctx, []batch.Target{target})[0]; s.Sent != 25 || s.UncertainOpen != 0 || conversionsSent(f, 0, 25) != 25 {
		t.Fatalf("resend: %+v", s)
	}
	if u := uploadertest.Uploads(t, db, "google")[0]; u.State != tally.Sent || u.Acked != 30 {
		t.Fatalf("after resend: %+v", u)
	}
	check, err := db.VerifyData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range check.Problems {
		if p.Table != "daily_counts" { // Seed writes no seal
			t.Errorf("verify data: %+v", p)
		}
	}
}

// Platforms that deduplicate by event id resend an unanswered request's
// conversions: sending twice counts once.
func TestUnansweredRequestResentToDedupPlatform(t *testing.T) {
	db, d := seeded(t, booking("meta", "c", 30))
	cell := tally.Cell{Day: day, Platform: "meta", Campaign: "c", Conversion: "booking"}
	inFlight(t, db, cell, 0, 25)
	f := newFake("meta", 25)
	s := deliver(t, d, f, 3)
	if s.Sent != 30 || s.UncertainOpen != 0 || conversionsSent(f, 0, 25) != 25 {
		t.Fatalf("summary = %+v", s)
	}
}
