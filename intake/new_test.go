package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/intake"
)

// An intake from New counts its commits in its metrics and acknowledges
// nothing once its database file is gone.
func TestNewGuardsTheFileAndCounts(t *testing.T) {
	f := newFixture(t, nil)
	f.consent(t, "v", true, testNow.Add(-time.Hour))
	in, err := intake.New(f.in.Pipeline, f.db, f.db.Path, intake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Writer.Close()
	ctx := context.Background()
	if sum, err := in.Process(ctx, []json.RawMessage{json.RawMessage(ev("1", "appointment_booked", "v", ""))}, false, true); err != nil || sum.Accepted != 1 {
		t.Fatalf("before: %+v %v, want the event accepted", sum, err)
	}
	srv := newHTTP(t, &fixture{db: f.db, in: in})
	if _, body := get(t, srv.URL+"/metrics"); !strings.Contains(body, "tally_intake_commit_events_count 1") {
		t.Errorf("metrics lack the commit:\n%s", body)
	}
	if err := os.Remove(f.db.Path); err != nil {
		t.Fatal(err)
	}
	_, err = in.Process(ctx, []json.RawMessage{json.RawMessage(ev("2", "appointment_booked", "v", ""))}, false, true)
	if !errors.Is(err, intake.ErrFileChanged) {
		t.Errorf("after the file was removed: %v, want ErrFileChanged", err)
	}
}
