package intake_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/sqlfile"
)

// auditSpy keeps the intake audit summaries.
type auditSpy struct {
	mu      sync.Mutex
	details []any
}

func (a *auditSpy) AppendAudit(_ context.Context, _ string, detail any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.details = append(a.details, detail)
	return nil
}

// TestOutcomesCountedOnce: the response summary, intake_outcomes, the
// intake audit summary and the Prometheus metrics all show the same counts
// for one request mixing every kind of outcome.
func TestOutcomesCountedOnce(t *testing.T) {
	f := newFixture(t, nil)
	audit := &auditSpy{}
	f.in.Writer.Close()
	f.in.Writer = intake.NewWriter(f.db, f.in.Pipeline.Rules(), intake.WriterOptions{Audit: audit, Now: func() time.Time { return testNow }})
	f.in.Metrics = intake.NewMetrics()
	f.consent(t, "v", true, testNow.Add(-time.Hour))
	sum := f.send(t, false,
		ev("1", "appointment_booked", "v", ""),
		ev("1", "appointment_booked", "v", ""),      // duplicate
		ev("2", "appointment_booked", "v", ""),      // over_bound
		ev("3", "appointment_booked", "nobody", ""), // no_consent
		ev("4", "lab_result_viewed", "v", ""),       // unmapped_event
		`{"event":"appointment_booked"}`,            // invalid
	)
	gpc := f.send(t, true, ev("5", "appointment_booked", "v", ""), ev("6", "appointment_booked", "v", ""))
	sum.Add(gpc)
	f.in.Writer.Close() // flushes the audit summary
	want := "accepted=1 dropped:gpc=2 dropped:no_consent=1 dropped:over_bound=1 dropped:unmapped_event=1 duplicate=1 invalid=1"

	got := fmt.Sprintf("accepted=%d dropped:gpc=%d dropped:no_consent=%d dropped:over_bound=%d dropped:unmapped_event=%d duplicate=%d invalid=%d",
		sum.Accepted, sum.Dropped[tally.ReasonGPC], sum.Dropped[tally.ReasonNoConsent], sum.Dropped[tally.ReasonOverBound], sum.Dropped[tally.ReasonUnmappedEvent], sum.Duplicates, len(sum.Invalid))
	if got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}

	rows, err := sqlfile.Open(t, f.db.Path).Query(`SELECT outcome, reason, count FROM intake_outcomes ORDER BY outcome, reason`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var stored []string
	for rows.Next() {
		var outcome, reason string
		var n int
		if err := rows.Scan(&outcome, &reason, &n); err != nil {
			t.Fatal(err)
		}
		if reason != "" {
			outcome += ":" + reason
		}
		stored = append(stored, fmt.Sprintf("%s=%d", outcome, n))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stored, " "); got != want {
		t.Errorf("intake_outcomes:\n got %s\nwant %s", got, want)
	}

	if len(audit.details) != 1 {
		t.Fatalf("%d audit summaries, want 1", len(audit.details))
	}
	outcomes := audit.details[0].(map[string]any)["outcomes"].(map[string]int)
	var audited []string
	for _, k := range strings.Fields(want) {
		name, _, _ := strings.Cut(k, "=")
		audited = append(audited, fmt.Sprintf("%s=%d", name, outcomes[name]))
	}
	if got := strings.Join(audited, " "); got != want || len(outcomes) != 7 {
		t.Errorf("audit summary %v, want %s", outcomes, want)
	}

	rec := httptest.NewRecorder()
	f.in.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range []string{
		`tally_intake_events_total{outcome="accepted",reason=""} 1`,
		`tally_intake_events_total{outcome="duplicate",reason=""} 1`,
		`tally_intake_events_total{outcome="dropped",reason="gpc"} 2`,
		`tally_intake_events_total{outcome="dropped",reason="no_consent"} 1`,
		`tally_intake_events_total{outcome="dropped",reason="over_bound"} 1`,
		`tally_intake_events_total{outcome="dropped",reason="unmapped_event"} 1`,
		`tally_intake_events_total{outcome="invalid",reason=""} 1`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("metrics lack %s", line)
		}
	}
}
