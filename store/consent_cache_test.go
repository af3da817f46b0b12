package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/store/storetest"
)

// TestWriterSeesEveryConsentChange checks the intake writer's consent
// cache stays exact: a withdrawal made through the same handle, or by
// another process (another handle on the file), applies to the very next
// event after a grant was cached.
func TestWriterSeesEveryConsentChange(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	rule := store.ConsentRule{Purpose: "advertising", MaxAge: 24 * time.Hour}
	seq := 0
	send := func(t *testing.T, db *store.DB, visitor string, at time.Time) string {
		t.Helper()
		seq++
		ev := &store.NewEvent{Cell: tally.Cell{Day: "2026-11-20", Platform: "meta", Campaign: fmt.Sprintf("c%d", seq), Conversion: "booking"},
			DedupKey: fmt.Appendf(nil, "e%d", seq), VisitorKey: []byte(visitor), At: at}
		if err := db.WriteIntake(ctx, rule, []*store.IntakeWrite{{Events: []*store.NewEvent{ev}}}); err != nil {
			t.Fatal(err)
		}
		return ev.Outcome.String() + "/" + ev.Reason.String()
	}
	choice := func(t *testing.T, db *store.DB, visitor string, granted bool, at time.Time) {
		t.Helper()
		if err := db.AddConsents(ctx, []store.Consent{{VisitorKey: []byte(visitor), Purpose: "advertising", Granted: granted, Time: at}}, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, other := range []bool{false, true} {
		t.Run(fmt.Sprintf("other process %v", other), func(t *testing.T) {
			db := storetest.Open(t)
			writer := db
			if other {
				o, err := store.Open(ctx, db.Path, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer o.Close()
				writer = o
			}
			if got := send(t, db, "v", t0); got != "dropped/no_consent" {
				t.Fatalf("before any consent: %s", got)
			}
			choice(t, writer, "v", true, t0.Add(time.Minute))
			if got := send(t, db, "v", t0.Add(2*time.Minute)); got != "accepted/" {
				t.Fatalf("after the grant: %s", got)
			}
			choice(t, writer, "v", false, t0.Add(3*time.Minute))
			if got := send(t, db, "v", t0.Add(4*time.Minute)); got != "dropped/no_consent" {
				t.Errorf("after the withdrawal: %s", got)
			}
			// Events before the withdrawal still count (history, not state).
			if got := send(t, db, "v", t0.Add(150*time.Second)); got != "accepted/" {
				t.Errorf("event between grant and withdrawal: %s", got)
			}
			choice(t, writer, "v", true, t0.Add(5*time.Minute))
			if got := send(t, db, "v", t0.Add(6*time.Minute)); got != "accepted/" {
				t.Errorf("after granting again: %s", got)
			}
			// Expiry is judged against the event's time.
			if got := send(t, db, "v", t0.Add(5*time.Minute+25*time.Hour)); got != "dropped/no_consent" {
				t.Errorf("grant older than max_age: %s", got)
			}
		})
	}
}
