package intake

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// storeRig decides candidates with a real store, one transaction per call
// of decideAll, as the writer does.
type storeRig struct {
	db    *store.DB
	rules Rules
	t0    time.Time
	n     int
}

func newStoreRig(t *testing.T, rules Rules, visitors ...string) *storeRig {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "tally.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &storeRig{db: db, rules: rules, t0: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	var grants []store.Consent
	for _, v := range visitors {
		grants = append(grants, store.Consent{VisitorKey: []byte("v-" + v), Purpose: rules.ConsentPurpose, Granted: true, Time: r.t0})
	}
	if err := db.AddConsents(ctx, grants, r.t0); err != nil {
		t.Fatal(err)
	}
	return r
}

// event is a candidate that passed the checks that need no database.
func (r *storeRig) event(id, visitor string, c tally.Cell) Candidate {
	return Candidate{Day: c.Day, At: r.t0.Add(time.Minute), Cell: c, EventKey: []byte("id-" + id), VisitorKey: []byte("v-" + visitor)}
}

// decideAll decides cs in one transaction and returns "outcome/reason" each.
func (r *storeRig) decideAll(t *testing.T, cs ...Candidate) []string {
	t.Helper()
	var out []string
	err := r.db.WriteIntake(context.Background(), func(tx *store.IntakeTx) error {
		for _, c := range cs {
			d, err := decide(context.Background(), tx, r.rules, c)
			if err != nil {
				return err
			}
			out = append(out, d.Outcome.String()+"/"+d.Reason.String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDecideWithTheStore runs decide against a real store: the
// outcomes that need the database (no_consent, duplicate, over_bound,
// late) come out of the store's answers.
func TestDecideWithTheStore(t *testing.T) {
	r := newStoreRig(t, Rules{ConsentPurpose: "advertising", MaxConsentAge: time.Hour}, "a", "b", "z")
	cell := tally.Cell{Day: "2026-11-20", Platform: "meta", Campaign: "c1", Conversion: "booking"}
	other := cell
	other.Campaign = "c2"
	got := r.decideAll(t,
		r.event("1", "a", cell),  // accepted
		r.event("1", "b", cell),  // duplicate event id
		r.event("2", "a", cell),  // same visitor, same cell: over_bound
		r.event("3", "a", other), // same visitor, other cell: accepted
		r.event("4", "q", cell),  // no consent record
		r.event("1", "a", cell),  // the first event again: duplicate
	)
	want := []string{"accepted/", "duplicate/", "dropped/over_bound", "accepted/", "dropped/no_consent", "duplicate/"}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("event %d: %v, want %s", i, got, want[i])
		}
	}
	// The duplicate from visitor b did not take b's place in the cell.
	if got := r.decideAll(t, r.event("5", "b", cell)); got[0] != "accepted/" {
		t.Errorf("b's own event after their duplicate: %s, want accepted/", got[0])
	}

	// A sealed day drops its events as late.
	ctx := context.Background()
	if _, err := sqlfile.Open(t, r.db.Path).ExecContext(ctx, `UPDATE days SET salt = NULL, sealed_at = ? WHERE day = ?`, store.FormatTime(time.Now()), cell.Day); err != nil {
		t.Fatal(err)
	}
	if got := r.decideAll(t, r.event("9", "z", cell)); got[0] != "dropped/late" {
		t.Errorf("sealed day: %s, want dropped/late", got[0])
	}
}
