package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// writerConsent asks the intake writer's transaction, and so its consent
// cache, for visitor's consent at at: "granted since <time>" or "none".
func writerConsent(t *testing.T, db *store.DB, visitor string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	var got string
	err := db.WriteIntake(ctx, func(tx *store.IntakeTx) error {
		granted, since, err := tx.Consent(ctx, []byte(visitor), "advertising", at)
		got = "none"
		if granted {
			got = "granted since " + since.Format(time.TimeOnly)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestWriterSeesEveryConsentChange checks the intake writer's consent
// cache stays exact: a withdrawal made through the same handle, or by
// another process (another handle on the file), applies to the very next
// event after a grant was cached.
func TestWriterSeesEveryConsentChange(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
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
			if got := writerConsent(t, db, "v", t0); got != "none" {
				t.Fatalf("before any consent: %s", got)
			}
			choice(t, writer, "v", true, t0.Add(time.Minute))
			if got := writerConsent(t, db, "v", t0.Add(2*time.Minute)); got != "granted since 08:01:00" {
				t.Fatalf("after the grant: %s", got)
			}
			choice(t, writer, "v", false, t0.Add(3*time.Minute))
			if got := writerConsent(t, db, "v", t0.Add(4*time.Minute)); got != "none" {
				t.Errorf("after the withdrawal: %s", got)
			}
			// Events before the withdrawal still count (history, not state).
			if got := writerConsent(t, db, "v", t0.Add(150*time.Second)); got != "granted since 08:01:00" {
				t.Errorf("event between grant and withdrawal: %s", got)
			}
			choice(t, writer, "v", true, t0.Add(5*time.Minute))
			if got := writerConsent(t, db, "v", t0.Add(6*time.Minute)); got != "granted since 08:05:00" {
				t.Errorf("after granting again: %s", got)
			}
			// The grant's time is returned for intake to judge its age
			// against the event's time.
			if got := writerConsent(t, db, "v", t0.Add(5*time.Minute+25*time.Hour)); got != "granted since 08:05:00" {
				t.Errorf("a day later: %s", got)
			}
		})
	}
}
