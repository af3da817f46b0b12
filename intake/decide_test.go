package intake

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
)

// fakeTx answers decide's questions from its fields and records which it
// was asked.
type fakeTx struct {
	noConsent  bool      // no grant on record
	since      time.Time // when the grant was made
	closed     bool      // the day is sealed
	cellExists bool
	onDay      int  // cells the day holds
	counted    bool // the visitor already counts in the cell
	seen       bool // the event id is stored on the day
	full       bool // the visitor counts in max_cells_per_visitor_day cells
	calls      []string
}

func (f *fakeTx) Consent(_ context.Context, _ []byte, _ string, _ time.Time) (bool, time.Time, error) {
	f.calls = append(f.calls, "Consent")
	return !f.noConsent, f.since, nil
}

func (f *fakeTx) DayOpen(context.Context, tally.Day) (bool, error) {
	f.calls = append(f.calls, "DayOpen")
	return !f.closed, nil
}

func (f *fakeTx) Cells(context.Context, tally.Cell) (bool, int, error) {
	f.calls = append(f.calls, "Cells")
	return f.cellExists, f.onDay, nil
}

func (f *fakeTx) ClaimContribution(context.Context, tally.Cell, []byte) (bool, error) {
	f.calls = append(f.calls, "Claim")
	return !f.counted, nil
}

func (f *fakeTx) ReleaseContribution(context.Context, tally.Cell, []byte) error {
	f.calls = append(f.calls, "Release")
	return nil
}

func (f *fakeTx) ClaimVisitorDay(context.Context, tally.Day, []byte, int) (bool, error) {
	f.calls = append(f.calls, "Visitor")
	return !f.full, nil
}

func (f *fakeTx) ReleaseVisitorDay(context.Context, tally.Day, []byte, int) error {
	f.calls = append(f.calls, "VisitorRelease")
	return nil
}

func (f *fakeTx) SeenEvent(context.Context, tally.Day, []byte) (bool, error) {
	f.calls = append(f.calls, "Seen")
	return f.seen, nil
}

func (f *fakeTx) InsertEvent(context.Context, tally.Cell, []byte) (bool, error) {
	f.calls = append(f.calls, "Insert")
	return !f.seen, nil
}

func (f *fakeTx) Count(context.Context, tally.Day, tally.Decision, int) error {
	f.calls = append(f.calls, "Count")
	return nil
}

// TestDecideOrder proves README.md's order of checks: when an event fails
// several, the first one names its outcome, and decide asks the database
// only what that check needs (a dropped event inserts nothing).
func TestDecideOrder(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	rules := Rules{ConsentPurpose: "advertising", MaxConsentAge: time.Hour, MaxCellsPerDay: 2}
	bounded := rules
	bounded.MaxCellsPerVisitorDay = 1
	tests := []struct {
		name  string
		c     Candidate
		tx    fakeTx
		rules *Rules // nil: rules
		want  string
		calls string
	}{
		{"gpc before no_consent", Candidate{GPC: true, Unmapped: true}, fakeTx{noConsent: true}, nil, "dropped:gpc", ""},
		{"no_consent before unmapped_event", Candidate{Unmapped: true, BadCampaign: true}, fakeTx{noConsent: true}, nil, "dropped:no_consent", "Consent"},
		{"a grant older than max_age is no consent", Candidate{}, fakeTx{since: at.Add(-61 * time.Minute)}, nil, "dropped:no_consent", "Consent"},
		{"a grant at max_age holds", Candidate{}, fakeTx{since: at.Add(-time.Hour)}, nil, "accepted", "Consent DayOpen Cells Claim Insert"},
		{"unmapped_event before bad_campaign", Candidate{Unmapped: true, BadCampaign: true, Future: true}, fakeTx{}, nil, "dropped:unmapped_event", "Consent"},
		{"bad_campaign before future", Candidate{BadCampaign: true, Future: true}, fakeTx{}, nil, "dropped:bad_campaign", "Consent"},
		{"future", Candidate{Future: true}, fakeTx{closed: true}, nil, "dropped:future", "Consent"},
		{"too_old before late", Candidate{TooOld: true}, fakeTx{closed: true}, nil, "dropped:too_old", "Consent"},
		{"late before cell_limit and duplicate", Candidate{}, fakeTx{closed: true, onDay: 2, counted: true, seen: true}, nil, "dropped:late", "Consent DayOpen"},
		{"cell_limit before duplicate", Candidate{}, fakeTx{onDay: 2, counted: true, seen: true}, nil, "dropped:cell_limit", "Consent DayOpen Cells"},
		{"an existing cell is within the limit", Candidate{}, fakeTx{cellExists: true, onDay: 5}, nil, "accepted", "Consent DayOpen Cells Claim Insert"},
		{"no limit, no cell lookup", Candidate{}, fakeTx{onDay: 5}, &Rules{ConsentPurpose: "advertising", MaxConsentAge: time.Hour}, "accepted", "Consent DayOpen Claim Insert"},
		{"duplicate before over_bound", Candidate{}, fakeTx{counted: true, seen: true}, nil, "duplicate", "Consent DayOpen Cells Claim Seen"},
		{"over_bound", Candidate{}, fakeTx{counted: true}, nil, "dropped:over_bound", "Consent DayOpen Cells Claim Seen"},
		{"a duplicate gives the visitor's place back", Candidate{}, fakeTx{seen: true}, nil, "duplicate", "Consent DayOpen Cells Claim Insert Release"},
		{"accepted", Candidate{}, fakeTx{}, nil, "accepted", "Consent DayOpen Cells Claim Insert"},
		{"the visitor's cells of the day, after the cell's bound", Candidate{}, fakeTx{counted: true, full: true}, &bounded, "dropped:over_bound", "Consent DayOpen Cells Claim Seen"},
		{"over the visitor's cells of the day", Candidate{}, fakeTx{full: true}, &bounded, "dropped:over_bound", "Consent DayOpen Cells Claim Visitor Seen"},
		{"a resent event in a full visitor's other cell is a duplicate", Candidate{}, fakeTx{full: true, seen: true}, &bounded, "duplicate", "Consent DayOpen Cells Claim Visitor Seen"},
		{"a duplicate gives the visitor's cell of the day back", Candidate{}, fakeTx{seen: true}, &bounded, "duplicate", "Consent DayOpen Cells Claim Visitor Insert VisitorRelease Release"},
		{"accepted within the visitor's cells", Candidate{}, fakeTx{}, &bounded, "accepted", "Consent DayOpen Cells Claim Visitor Insert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rules
			if tt.rules != nil {
				r = *tt.rules
			}
			if tt.tx.since.IsZero() {
				tt.tx.since = at.Add(-time.Minute)
			}
			tt.c.At = at
			got, err := decide(context.Background(), &tt.tx, r, tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("decision %s, want %s", got, tt.want)
			}
			if calls := strings.Join(tt.tx.calls, " "); calls != tt.calls {
				t.Errorf("asked %q, want %q", calls, tt.calls)
			}
		})
	}
}

// errTx fails its consent lookup.
type errTx struct{ fakeTx }

func (errTx) Consent(context.Context, []byte, string, time.Time) (bool, time.Time, error) {
	return false, time.Time{}, errors.New("disk I/O error")
}

// TestDecideFailsClosed: a database error is returned, never read as a
// decision that could be acknowledged.
func TestDecideFailsClosed(t *testing.T) {
	if _, err := decide(context.Background(), &errTx{}, Rules{}, Candidate{}); err == nil {
		t.Fatal("a failed consent lookup decided the event")
	}
}
