package intake_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// TestEventIDsDoNotOutliveTheirDay: the stored dedup_key is keyed with the
// day's salt, never the permanent key, so after the seal (which deletes the
// salt) whoever holds the key cannot find a booking reference sent as
// event_id among the stored events. Within the open day a resent event id
// is still a duplicate, in another request or in the same batch; the same
// event id on another day is another event (its key differs per day).
func TestEventIDsDoNotOutliveTheirDay(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.consent(t, "v1", true, testNow.Add(-48*time.Hour))
	f.consent(t, "v2", true, testNow.Add(-48*time.Hour))
	booking := ev("BOOK-4711", "appointment_booked", "v1", `,"source":"google","campaign":"c"`)
	if got := outcome(f.send(t, false, booking)); got != "accepted" {
		t.Fatalf("first: %s, want accepted", got)
	}
	if got := outcome(f.send(t, false, booking)); got != "duplicate" {
		t.Errorf("resent in the open day: %s, want duplicate", got)
	}
	sum := f.send(t, false,
		ev("BOOK-4712", "appointment_booked", "v1", `,"source":"google","campaign":"d"`),
		ev("BOOK-4712", "appointment_booked", "v2", `,"source":"google","campaign":"d"`))
	if sum.Accepted != 1 || sum.Duplicates != 1 {
		t.Errorf("same event id twice in one batch: %+v, want 1 accepted and 1 duplicate", sum)
	}
	yesterday := ev("BOOK-4711", "appointment_booked", "v1",
		`,"source":"google","campaign":"c","time":"`+testNow.Add(-24*time.Hour).Format(time.RFC3339)+`"`)
	if got := outcome(f.send(t, false, yesterday)); got != "accepted" {
		t.Errorf("same event id on another day: %s, want accepted (dedup keys are per day)", got)
	}

	p := f.in.Pipeline
	linkable := func(when string) {
		keys := sqlfile.Blobs(t, sqlfile.Open(t, f.db.Path), `SELECT dedup_key FROM events`)
		if len(keys) != 3 {
			t.Errorf("%s: %d stored events, want 3", when, len(keys))
		}
		for _, id := range []string{"BOOK-4711", "BOOK-4712"} {
			for _, k := range keys {
				if bytes.Equal(k, p.Hash("event_id", id)) {
					t.Errorf("PRIVACY LEAK %s: events.dedup_key is the permanent-key hash of event id %s", when, id)
				}
			}
		}
	}
	linkable("before the seal")
	noRows := func(context.Context, store.SealInput) ([]store.DailyCount, error) { return nil, nil }
	for _, day := range []tally.Day{"2026-11-19", "2026-11-20"} {
		if _, err := f.db.SealDay(ctx, day, testNow.Add(24*time.Hour), nil, noRows); err != nil {
			t.Fatal(err)
		}
	}
	linkable("after the seal")
}
