package intake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/store"
)

// Bad lines on both sides of a chunk boundary are reported with their own
// line number and reason, and every good line around them is committed.
func TestImportEventsReportsBadLinesAcrossChunks(t *testing.T) {
	f := newFixture(t, nil)
	f.consentMany(t, 1203)
	var lines []string
	for i := 1; i <= 1203; i++ {
		switch i {
		case 500:
			lines = append(lines, "not json")
		case 501:
			lines = append(lines, `{"event":"appointment_booked","visitor_id":"v501"}`)
		case 1001:
			lines = append(lines, "")
		default:
			lines = append(lines, ev(fmt.Sprintf("e%d", i), "appointment_booked", fmt.Sprintf("v%d", i), ""))
		}
	}
	lines = append(lines, ev("e2", "appointment_booked", "v2", ""), ev("n1", "appointment_booked", "v-none", ""))
	var errs strings.Builder
	sum, err := f.in.ImportEvents(context.Background(), strings.NewReader(strings.Join(lines, "\n")),
		intake.ImportOptions{Name: "events.ndjson", Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sum.String(), "accepted 1200, duplicate 1, invalid 2, dropped 1 no_consent=1"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	want := "events.ndjson: line 500: malformed JSON: want one object per line\n" +
		"events.ndjson: line 501: event_id: required\n"
	if errs.String() != want {
		t.Errorf("errors:\n%s\nwant:\n%s", errs.String(), want)
	}
}

// The format follows the file name unless given: a CSV header row is
// malformed JSON to the NDJSON reader.
func TestImportEventsFormat(t *testing.T) {
	csv := "event_id,event,visitor_id\nc1,appointment_booked,v1\n"
	tests := []struct {
		name, format, want string
	}{
		{"events.csv", "", "accepted 1, duplicate 0, invalid 0, dropped 0"},
		{"EVENTS.CSV", "", "accepted 1, duplicate 0, invalid 0, dropped 0"},
		{"-", "csv", "accepted 1, duplicate 0, invalid 0, dropped 0"},
		{"events.csv", "ndjson", "accepted 0, duplicate 0, invalid 2, dropped 0"},
		{"-", "", "accepted 0, duplicate 0, invalid 2, dropped 0"},
	}
	for _, tt := range tests {
		f := newFixture(t, nil)
		f.consent(t, "v1", true, testNow.Add(-24*time.Hour))
		var errs strings.Builder
		sum, err := f.in.ImportEvents(context.Background(), strings.NewReader(csv), intake.ImportOptions{Name: tt.name, Format: tt.format, Errors: &errs})
		if err != nil {
			t.Fatal(err)
		}
		if sum.String() != tt.want {
			t.Errorf("%s as %q: %q, want %q (%s)", tt.name, tt.format, sum.String(), tt.want, errs.String())
		}
	}
}

// A commit that fails ends the import with its error; the chunk
// committed before it is still counted.
func TestImportEventsStopsOnCommitError(t *testing.T) {
	f := newFixture(t, nil)
	f.consentMany(t, 1200)
	f.in.Writer.Close()
	f.in.Writer = intake.NewWriter(&failSecond{db: f.db}, f.in.Pipeline.Rules(), intake.WriterOptions{})
	t.Cleanup(f.in.Writer.Close)
	var lines []string
	for i := 1; i <= 1200; i++ {
		lines = append(lines, ev(fmt.Sprintf("e%d", i), "appointment_booked", fmt.Sprintf("v%d", i), ""))
	}
	sum, err := f.in.ImportEvents(context.Background(), strings.NewReader(strings.Join(lines, "\n")), intake.ImportOptions{Name: "-"})
	if !errors.Is(err, errSecondCommit) {
		t.Errorf("err = %v, want the commit's error", err)
	}
	if sum.Accepted != 500 {
		t.Errorf("accepted %d, want the first chunk's 500", sum.Accepted)
	}
}

var errSecondCommit = errors.New("second commit failed")

// failSecond commits through db once, then fails.
type failSecond struct {
	db      intake.IntakeCommitter
	commits int
}

func (s *failSecond) WriteIntake(ctx context.Context, fn func(*store.IntakeTx) error) error {
	s.commits++
	if s.commits > 1 {
		return errSecondCommit
	}
	return s.db.WriteIntake(ctx, fn)
}

// consentMany records a grant for visitors v1..vn a day before testNow
// (one event each stays under the per-visitor daily bound).
func (f *fixture) consentMany(t *testing.T, n int) {
	t.Helper()
	recs := make([]store.Consent, n)
	for i := range recs {
		recs[i] = store.Consent{VisitorKey: f.in.Pipeline.Hash("visitor", fmt.Sprintf("v%d", i+1)), Purpose: "advertising",
			Granted: true, Time: testNow.Add(-24 * time.Hour)}
	}
	if err := f.db.AddConsents(context.Background(), recs, testNow); err != nil {
		t.Fatal(err)
	}
}

func TestSummaryString(t *testing.T) {
	s := intake.NewSummary()
	if got, want := s.String(), "accepted 0, duplicate 0, invalid 0, dropped 0"; got != want {
		t.Errorf("empty: %q, want %q", got, want)
	}
	s.Add(intake.Summary{Accepted: 3, Duplicates: 1, Dropped: map[tally.Reason]int{tally.ReasonNoConsent: 2, tally.ReasonGPC: 1},
		Invalid: []intake.InvalidEvent{{Index: 4, Error: "x"}}})
	if got, want := s.String(), "accepted 3, duplicate 1, invalid 1, dropped 3 gpc=1 no_consent=2"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// A consent import counts what it recorded, skipped and refused, reports
// each bad line, and leaves one audit entry with the counts.
func TestImportConsents(t *testing.T) {
	f := newFixture(t, nil)
	in := strings.Join([]string{
		`{"visitor_id":"v1","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z","source":"cmp"}`,
		`{"visitor_id":"v1","purposes":{"advertising":true},"time":"2026-11-19T01:00:00Z","source":"cmp"}`,
		`{"visitor_id":"v2","purposes":{"advertising":false},"time":"2026-11-19T00:00:00Z"}`,
		`{"visitor_id":"v3","purposes":{"analytics":true}}`,
		`not json`,
		`{"purposes":{"advertising":true}}`,
		`{"visitor_id":"v4","purposes":{"advertising":true},"time":"2026-11-21T00:00:00Z"}`,
	}, "\n")
	var errs strings.Builder
	n, err := f.in.ImportConsents(context.Background(), f.db, strings.NewReader(in), intake.ImportOptions{Name: "c.ndjson", Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	// v1's second grant repeats its latest state: no row, not recorded.
	if want := (intake.ConsentCounts{Recorded: 2, Skipped: 1, Invalid: 3}); n != want {
		t.Errorf("counts %+v, want %+v", n, want)
	}
	wantErrs := "c.ndjson: line 5: malformed JSON: want one object per line\n" +
		"c.ndjson: line 6: visitor_id: required\n" +
		"c.ndjson: line 7: time: in the future\n"
	if errs.String() != wantErrs {
		t.Errorf("errors:\n%s\nwant:\n%s", errs.String(), wantErrs)
	}
	var audit []string
	err = f.db.AuditEntries(context.Background(), "", func(a store.AuditEntry) error {
		audit = append(audit, a.Kind+" "+a.Detail)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := store.AuditConsentImport + ` {"invalid":3,"recorded":2,"skipped":1}`; len(audit) != 1 || audit[0] != want {
		t.Errorf("audit %q, want [%q]", audit, want)
	}
}

// A store that fails ends the import with its error and no audit entry.
func TestImportConsentsStoreError(t *testing.T) {
	f := newFixture(t, nil)
	db := &failingConsents{DB: f.db}
	in := `{"visitor_id":"v1","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z"}`
	n, err := f.in.ImportConsents(context.Background(), db, strings.NewReader(in), intake.ImportOptions{Name: "c.ndjson"})
	if !errors.Is(err, errConsentStore) || n != (intake.ConsentCounts{}) {
		t.Errorf("counts %+v, err %v", n, err)
	}
	if db.audits != 0 {
		t.Errorf("%d audit entries after a failed import", db.audits)
	}
}

var errConsentStore = errors.New("consent store down")

type failingConsents struct {
	*store.DB
	audits int
}

func (failingConsents) RecordConsents(context.Context, []store.Consent, time.Time) (int, error) {
	return 0, errConsentStore
}

func (f *failingConsents) AppendAudit(context.Context, string, any) error {
	f.audits++
	return nil
}

// Files are imported in order, each bad line under its own file's name; a
// file that cannot be opened stops the import, naming it, with the files
// before it counted.
func TestImportEventFiles(t *testing.T) {
	f := newFixture(t, nil)
	f.consentMany(t, 3)
	files := map[string]string{
		"a.ndjson": ev("e1", "appointment_booked", "v1", "") + "\nnot json\n",
		"b.csv":    "event_id,event,visitor_id\ne2,appointment_booked,v2\n",
	}
	open := func(name string) (io.ReadCloser, error) {
		body, ok := files[name]
		if !ok {
			return nil, os.ErrNotExist
		}
		return io.NopCloser(strings.NewReader(body)), nil
	}
	var errs strings.Builder
	opt := intake.ImportOptions{Errors: &errs}
	sum, err := f.in.ImportEventFiles(context.Background(), []string{"a.ndjson", "b.csv"}, open, opt)
	if err != nil || sum.String() != "accepted 2, duplicate 0, invalid 1, dropped 0" {
		t.Errorf("%q %v", sum.String(), err)
	}
	if want := "a.ndjson: line 2: malformed JSON: want one object per line\n"; errs.String() != want {
		t.Errorf("errors %q, want %q", errs.String(), want)
	}
	sum, err = f.in.ImportEventFiles(context.Background(), []string{"a.ndjson", "gone.ndjson", "b.csv"}, open, opt)
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "ingest gone.ndjson: ") {
		t.Errorf("err = %v, want the missing file named", err)
	}
	if sum.String() != "accepted 0, duplicate 1, invalid 1, dropped 0" {
		t.Errorf("summary %q, want a.ndjson's alone", sum.String())
	}
}
