package intake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

var testNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type fixture struct {
	db *store.DB
	in *intake.Intake
}

// testOptions are the defaults of config.example.toml.
func testOptions() intake.Options {
	return intake.Options{
		Key: []byte("test-key-0123456789"), Location: time.UTC, MaxEventAge: 168 * time.Hour,
		Events: map[string]string{"appointment_booked": "booking", "contact_form_submitted": "lead"},
		Sources: map[string]tally.Platform{"facebook": tally.PlatformMeta, "instagram": tally.PlatformMeta,
			"google": tally.PlatformGoogle, "tiktok": tally.PlatformTikTok, "linkedin": tally.PlatformLinkedIn},
		CampaignPattern: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`, MaxCellsPerDay: 1000,
		ConsentPurpose: "advertising", ConsentMaxAge: 9480 * time.Hour, HonorGPC: true, TCFPurposes: []int{1, 7},
		ConsentSources: []string{"tally.js", "import", "cmp"},
		MaxBodyBytes:   1 << 20, MaxBatch: 500, RatePerClient: 20, BurstPerClient: 100,
	}
}

func newFixture(t *testing.T, mod func(*intake.Options)) *fixture {
	t.Helper()
	opt := testOptions()
	if mod != nil {
		mod(&opt)
	}
	db := storetest.Open(t)
	p, err := intake.NewPipeline(opt)
	if err != nil {
		t.Fatal(err)
	}
	p.Now = func() time.Time { return testNow }
	w := intake.NewWriter(db, p.Rules(), intake.WriterOptions{QueueLen: 64, MaxEvents: 1000})
	t.Cleanup(w.Close)
	return &fixture{db: db, in: &intake.Intake{Pipeline: p, Writer: w, Consents: db}}
}

// consent records a choice for visitor at t.
func (f *fixture) consent(t *testing.T, visitor string, granted bool, at time.Time) {
	t.Helper()
	rec := store.Consent{VisitorKey: f.in.Pipeline.Hash("visitor", visitor), Purpose: "advertising", Granted: granted, Time: at}
	if err := f.db.AddConsents(context.Background(), []store.Consent{rec}, testNow); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) send(t *testing.T, gpc bool, events ...string) intake.Summary {
	t.Helper()
	raws := make([]json.RawMessage, len(events))
	for i, e := range events {
		raws[i] = json.RawMessage(e)
	}
	sum, err := f.in.Process(context.Background(), raws, gpc, false)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// outcome returns "accepted", "duplicate", "invalid" or "dropped/<reason>"
// for a single-event summary.
func outcome(s intake.Summary) string {
	switch {
	case s.Accepted == 1:
		return "accepted"
	case s.Duplicates == 1:
		return "duplicate"
	case len(s.Invalid) == 1:
		return "invalid"
	}
	for r, n := range s.Dropped {
		if n == 1 {
			return "dropped/" + r.String()
		}
	}
	return fmt.Sprintf("?%+v", s)
}

func ev(id, name, visitor string, extra string) string {
	return fmt.Sprintf(`{"event_id":%q,"event":%q,"visitor_id":%q%s}`, id, name, visitor, extra)
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name  string
		gpc   bool
		event string
		want  string
	}{
		{"accepted", false, ev("a1", "appointment_booked", "v-ok", `,"source":"facebook","campaign":"spring_24"`), "accepted"},
		{"no campaign accepted", false, ev("a2", "appointment_booked", "v-ok", ""), "accepted"},
		{"empty campaign accepted", false, ev("a3", "appointment_booked", "v-ok", `,"campaign":""`), "accepted"},
		{"unix time accepted", false, ev("a4", "appointment_booked", "v-ok", fmt.Sprintf(`,"time":%d`, testNow.Add(-time.Hour).Unix())), "accepted"},
		{"missing event_id", false, `{"event":"appointment_booked","visitor_id":"v-ok"}`, "invalid"},
		{"missing visitor_id", false, `{"event_id":"x","event":"appointment_booked"}`, "invalid"},
		{"missing event", false, `{"event_id":"x","visitor_id":"v-ok"}`, "invalid"},
		{"event_id wrong type", false, `{"event_id":7,"event":"appointment_booked","visitor_id":"v-ok"}`, "invalid"},
		{"event_id too long", false, ev(strings.Repeat("x", 129), "appointment_booked", "v-ok", ""), "invalid"},
		{"bad time", false, ev("b1", "appointment_booked", "v-ok", `,"time":"yesterday"`), "invalid"},
		{"not an object", false, `[1,2]`, "invalid"},
		{"gpc", true, ev("g1", "appointment_booked", "v-ok", ""), "dropped/gpc"},
		{"gpc before invalid consent", true, ev("g2", "appointment_booked", "v-none", ""), "dropped/gpc"},
		{"no consent record", false, ev("n1", "appointment_booked", "v-none", ""), "dropped/no_consent"},
		{"consent before mapping", false, ev("n2", "unknown_event", "v-none", ""), "dropped/no_consent"},
		{"unmapped event", false, ev("u1", "lab_result_viewed", "v-ok", ""), "dropped/unmapped_event"},
		{"bad campaign", false, ev("c1", "appointment_booked", "v-ok", `,"campaign":"jane@example.org"`), "dropped/bad_campaign"},
		{"campaign too long", false, ev("c2", "appointment_booked", "v-ok", fmt.Sprintf(`,"campaign":%q`, strings.Repeat("a", 65))), "dropped/bad_campaign"},
		{"future", false, ev("f1", "appointment_booked", "v-ok", `,"time":"2026-11-20T12:06:00Z"`), "dropped/future"},
		{"slightly ahead accepted", false, ev("f2", "appointment_booked", "v-ok", `,"time":"2026-11-20T12:04:00Z"`), "accepted"},
		{"too old", false, ev("o1", "appointment_booked", "v-old", `,"time":"2026-11-13T11:59:00Z"`), "dropped/too_old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.consent(t, "v-ok", true, testNow.Add(-24*time.Hour))
			f.consent(t, "v-old", true, testNow.Add(-30*24*time.Hour))
			if got := outcome(f.send(t, tt.gpc, tt.event)); got != tt.want {
				t.Errorf("outcome = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestStatefulOutcomes(t *testing.T) {
	f := newFixture(t, nil)
	f.consent(t, "v1", true, testNow.Add(-time.Hour))
	f.consent(t, "v2", true, testNow.Add(-time.Hour))
	steps := []struct {
		event, want string
	}{
		{ev("e1", "appointment_booked", "v1", `,"source":"google","campaign":"c"`), "accepted"},
		{ev("e1", "appointment_booked", "v1", `,"source":"google","campaign":"c"`), "duplicate"},
		{ev("e2", "appointment_booked", "v1", `,"source":"google","campaign":"c"`), "dropped/over_bound"},
		{ev("e3", "appointment_booked", "v1", `,"source":"google","campaign":"other"`), "accepted"},
		{ev("e4", "contact_form_submitted", "v1", `,"source":"google","campaign":"c"`), "accepted"},
		{ev("e5", "appointment_booked", "v2", `,"source":"google","campaign":"c"`), "accepted"},
	}
	for i, s := range steps {
		if got := outcome(f.send(t, false, s.event)); got != s.want {
			t.Errorf("step %d: %s, want %s", i, got, s.want)
		}
	}
	// Sealing the day makes further events late (the seal itself is the
	// rollup's job; here it is simulated the way rollup records it).
	if _, err := sqlfile.Open(t, f.db.Path).Exec(`UPDATE days SET salt = NULL, sealed_at = '2026-11-21T03:00:00.000Z' WHERE day = '2026-11-20'`); err != nil {
		t.Fatal(err)
	}
	if got := outcome(f.send(t, false, ev("e9", "appointment_booked", "v2", `,"campaign":"z"`))); got != "dropped/late" {
		t.Errorf("after seal: %s, want dropped/late", got)
	}
	counts, err := f.db.OutcomeCounts(context.Background(), "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	want := map[store.OutcomeKey]int{
		{Day: "2026-11-20", Outcome: tally.Accepted}:                               4,
		{Day: "2026-11-20", Outcome: tally.Duplicate}:                              1,
		{Day: "2026-11-20", Outcome: tally.Dropped, Reason: tally.ReasonOverBound}: 1,
		{Day: "2026-11-20", Outcome: tally.Dropped, Reason: tally.ReasonLate}:      1,
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("intake_outcomes %v = %d, want %d", k, counts[k], n)
		}
	}
	var platform, campaign, conversion string
	if err := sqlfile.Open(t, f.db.Path).QueryRow(`SELECT platform, campaign, conversion FROM events WHERE campaign = 'c' AND conversion = 'booking' LIMIT 1`).Scan(&platform, &campaign, &conversion); err != nil {
		t.Fatal(err)
	}
	if platform != "google" || campaign != "c" || conversion != "booking" {
		t.Errorf("stored cell = %s/%s/%s", platform, campaign, conversion)
	}
}

func TestConsentTiming(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name    string
		records []struct {
			granted bool
			at      time.Duration // relative to the event
		}
		want string
	}{
		{"granted before", recs(true, -h), "accepted"},
		{"granted at the event time", recs(true, time.Duration(0)), "accepted"},
		{"granted after the event", recs(true, h), "dropped/no_consent"},
		{"withdrawn before", recs(true, -2*h, false, -h), "dropped/no_consent"},
		{"withdrawn after", recs(true, -2*h, false, h), "accepted"},
		{"withdrawn then granted again", recs(true, -3*h, false, -2*h, true, -h), "accepted"},
		{"expired", recs(true, -9481*h), "dropped/no_consent"},
		{"just within max_age", recs(true, -9479*h), "accepted"},
		{"only a withdrawal", recs(false, -h), "dropped/no_consent"},
	}
	eventAt := testNow.Add(-2 * h)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			visitor := fmt.Sprintf("v%d", i)
			for _, r := range tt.records {
				f.consent(t, visitor, r.granted, eventAt.Add(r.at))
			}
			e := ev("id", "appointment_booked", visitor, fmt.Sprintf(`,"time":%q`, eventAt.Format(time.RFC3339)))
			if got := outcome(f.send(t, false, e)); got != tt.want {
				t.Errorf("outcome = %s, want %s", got, tt.want)
			}
		})
	}
}

func recs(pairs ...any) []struct {
	granted bool
	at      time.Duration
} {
	var out []struct {
		granted bool
		at      time.Duration
	}
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, struct {
			granted bool
			at      time.Duration
		}{pairs[i].(bool), pairs[i+1].(time.Duration)})
	}
	return out
}

func TestGPCIgnoredWhenNotHonored(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.HonorGPC = false })
	f.consent(t, "v", true, testNow.Add(-time.Hour))
	if got := outcome(f.send(t, true, ev("x", "appointment_booked", "v", ""))); got != "accepted" {
		t.Errorf("outcome = %s, want accepted", got)
	}
}

func TestConsentRecordUnderGPCIsWithdrawal(t *testing.T) {
	f := newFixture(t, nil)
	c, err := intake.DecodeConsent([]byte(`{"visitor_id":"v","purposes":{"advertising":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := f.in.Pipeline.ConsentRecords(c, true)
	if err != nil || len(recs) != 1 || recs[0].Granted {
		t.Errorf("GPC consent = %+v err=%v, want one withdrawal", recs, err)
	}
	c.Purposes = map[string]bool{"analytics": true}
	if recs, _ := f.in.Pipeline.ConsentRecords(c, false); len(recs) != 0 {
		t.Error("a record without the configured purpose was kept")
	}
}
