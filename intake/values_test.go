package intake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/sqlfile"
)

// TestOddTimesAreInvalid checks that an event time before 2000 (year 0001
// included, which Go reads as the zero time) is invalid, never replaced by
// the time received.
func TestOddTimesAreInvalid(t *testing.T) {
	f := newFixture(t, nil)
	f.consent(t, "v-ok", true, testNow.Add(-24*time.Hour))
	for i, tm := range []string{`"0001-01-01T00:00:00Z"`, `"1999-12-31T23:59:59Z"`, `"1970-01-01T00:00:00Z"`, `0`, `946684799`, `"946684799"`} {
		if got := outcome(f.send(t, false, ev(fmt.Sprintf("t%d", i), "appointment_booked", "v-ok", `,"time":`+tm))); got != "invalid" {
			t.Errorf("time %s: outcome = %s, want invalid", tm, got)
		}
	}
	// 2000-01-01T00:00:00Z itself is a valid time (too_old is then a
	// matter of intake.max_event_age).
	for _, tm := range []string{`946684800`, `"2000-01-01T00:00:00Z"`, `""`, `null`} {
		if _, err := intake.DecodeEvent([]byte(ev("t2", "appointment_booked", "v", `,"time":`+tm))); err != nil {
			t.Errorf("time %s: %v, want valid", tm, err)
		}
	}
}

// campaignRig sends consented events, one per campaign, through one
// fixture: each campaign opens its own cell, so the events do not interact.
type campaignRig struct {
	f *fixture
	n int
}

func newCampaignRig(t *testing.T, mod func(*intake.Options)) *campaignRig {
	t.Helper()
	f := newFixture(t, mod)
	f.consent(t, "v-ok", true, testNow.Add(-24*time.Hour))
	return &campaignRig{f: f}
}

// outcome sends one event with campaign and returns its outcome.
func (r *campaignRig) outcome(t *testing.T, campaign string) string {
	t.Helper()
	js, err := json.Marshal(campaign)
	if err != nil {
		t.Fatal(err)
	}
	r.n++
	return outcome(r.f.send(t, false, ev(fmt.Sprintf("c%d", r.n), "appointment_booked", "v-ok", `,"source":"facebook","campaign":`+string(js))))
}

// TestCampaignPatternMatchesWholeValue checks that a pattern whose
// alternatives are anchored separately still has to match the whole value.
func TestCampaignPatternMatchesWholeValue(t *testing.T) {
	r := newCampaignRig(t, func(o *intake.Options) { o.CampaignPattern = `^spring$|^summer|autumn$` })
	for campaign, want := range map[string]string{
		"spring":                  "accepted",
		"summer":                  "accepted",
		"autumn":                  "accepted",
		"summer_sale":             "dropped/bad_campaign",
		"late_autumn":             "dropped/bad_campaign",
		"summer.jane@example.org": "dropped/bad_campaign",
		"DOB-1975-03-12-autumn":   "dropped/bad_campaign",
	} {
		if got := r.outcome(t, campaign); got != want {
			t.Errorf("campaign %q: %s, want %s", campaign, got, want)
		}
	}
}

// TestCampaignShapesRefused checks the rules that hold whatever the pattern:
// no email, phone number, date, URL, whitespace, formula prefix, control or
// bidirectional character.
func TestCampaignShapesRefused(t *testing.T) {
	r := newCampaignRig(t, func(o *intake.Options) { o.CampaignPattern = `^(?s:.*)$` })
	for _, campaign := range []string{
		"jane@example.org", "jane.doe%40example.org",
		"5551234567", "555-123-4567", "+15551234567", "(555)123-4567", "MRN00123456",
		"1975-03-12", "DOB-1975-03-12", "12/03/1975", "12.3.75", "12-Mar-1975", "March12,1975",
		"https://example.org", "example.org/cardiology", "www.example.org", "javascript:alert(1)",
		"jane doe", "spring\t24", "spring\n24",
		"=HYPERLINK(\"x\")", "+SUM(A1)", "-1+2", "@SUM(A1)",
		"spring\x1b[31m", "spring\x00", "spring\x7f", "spring\u0085",
		"spring\u202e42", "spring\u202a", "spring\u2066x", "spring\u2069", "spring\u200e", "spring\u200f",
	} {
		if got := r.outcome(t, campaign); got != "dropped/bad_campaign" {
			t.Errorf("campaign %q: %s, want dropped/bad_campaign", campaign, got)
		}
	}
	for _, campaign := range []string{"spring_24", "flu-shots", "c1", "2026q1", "spring.2026", "brand_123456"} {
		if got := r.outcome(t, campaign); got != "accepted" {
			t.Errorf("campaign %q: %s, want accepted", campaign, got)
		}
	}
}

// TestDefaultCampaignPatternStartsWithLetterOrDigit checks the default
// pattern against values a spreadsheet reads as formulas.
func TestDefaultCampaignPatternStartsWithLetterOrDigit(t *testing.T) {
	r := newCampaignRig(t, nil)
	for campaign, want := range map[string]string{
		"spring_24": "accepted", "24_spring": "accepted",
		"-spring": "dropped/bad_campaign", "_spring": "dropped/bad_campaign", ".spring": "dropped/bad_campaign",
	} {
		if got := r.outcome(t, campaign); got != want {
			t.Errorf("campaign %q: %s, want %s", campaign, got, want)
		}
	}
}

// TestCampaignAllowlistReplacesPattern checks intake.campaigns: only the
// listed values pass, whatever the pattern would allow.
func TestCampaignAllowlistReplacesPattern(t *testing.T) {
	r := newCampaignRig(t, func(o *intake.Options) { o.Campaigns = []string{"spring_24", "flu-shots"} })
	for campaign, want := range map[string]string{
		"spring_24": "accepted", "flu-shots": "accepted",
		"summer": "dropped/bad_campaign", "Spring_24": "dropped/bad_campaign", "spring_24x": "dropped/bad_campaign",
	} {
		if got := r.outcome(t, campaign); got != want {
			t.Errorf("campaign %q: %s, want %s", campaign, got, want)
		}
	}
	r.f.send(t, false, ev("n", "appointment_booked", "v-ok", `,"source":"facebook"`))
	var n int
	if err := sqlfile.Open(t, r.f.db.Path).QueryRowContext(context.Background(), `SELECT count(*) FROM events WHERE campaign = ''`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("an event without a campaign under an allowlist: %d stored, want 1", n)
	}
}

// TestMaxCellsPerDayFromConfig checks that intake.max_cells_per_day reaches
// the writer and that cell_limit is reported like any other drop reason.
func TestMaxCellsPerDayFromConfig(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.MaxCellsPerDay = 1 })
	f.consent(t, "v-ok", true, testNow.Add(-24*time.Hour))
	sum := f.send(t, false,
		ev("m1", "appointment_booked", "v-ok", `,"source":"facebook","campaign":"spring"`),
		ev("m2", "appointment_booked", "v-ok", `,"source":"facebook","campaign":"summer"`),
		ev("m3", "contact_form_submitted", "v-ok", `,"source":"facebook","campaign":"spring"`))
	if sum.Accepted != 1 || sum.Dropped[tally.ReasonCellLimit] != 2 {
		t.Errorf("summary %+v, want 1 accepted and 2 dropped as cell_limit", sum)
	}
}
