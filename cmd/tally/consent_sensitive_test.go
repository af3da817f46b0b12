package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gpp "github.com/prebid/go-gpp"
	"github.com/prebid/go-gpp/constants"
	"github.com/prebid/go-gpp/sections"
	"github.com/prebid/go-gpp/sections/uspnat"
)

// gppHealth encodes a US National GPP string (go-gpp's encoder) in which
// the visitor did not opt out of targeted advertising and said health to
// the sensitive-data field "consumer's health" (field 3).
func gppHealth(t *testing.T, health byte) string {
	t.Helper()
	sensitive := make([]byte, 12)
	sensitive[2] = health
	s, err := gpp.Encode([]gpp.Section{uspnat.USPNAT{SectionID: constants.SectionUSPNAT,
		CoreSegment: uspnat.USPNATCoreSegment{Version: 1, SharingNotice: 1, SaleOptOutNotice: 1, SharingOptOutNotice: 1,
			TargetedAdvertisingOptOutNotice: 1, SensitiveDataProcessingOptOutNotice: 1, SaleOptOut: 2, SharingOptOut: 2,
			TargetedAdvertisingOptOut: 2, SensitiveDataProcessing: sensitive, KnownChildSensitiveDataConsents: make([]byte, 2)},
		GPCSegment: sections.CommonUSGPCSegment{SubsectionType: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRequireSensitiveNeedsHealthDataConsent runs the real binary with
// consent.require_sensitive = true: an event whose visitor granted
// advertising but not health_data is no_consent; a grant of both, or a GPP
// string whose health field says "consent", lets it through; a later
// withdrawal of health_data alone withdraws.
func TestRequireSensitiveNeedsHealthDataConsent(t *testing.T) {
	dir, cfg := intakeDir(t)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("[consent]\nrequire_sensitive = true\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	now := "2026-11-20T12:00:00Z"
	consents := write(t, filepath.Join(dir, "consent.ndjson"), strings.Join([]string{
		`{"visitor_id":"ads-only","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z"}`,
		`{"visitor_id":"both","purposes":{"advertising":true,"health_data":true},"time":"2026-11-19T00:00:00Z"}`,
		`{"visitor_id":"gpp-health","gpp":"` + gppHealth(t, 2) + `","gpp_sid":[7],"time":"2026-11-19T00:00:00Z"}`,
		`{"visitor_id":"gpp-no-health","gpp":"` + gppHealth(t, 1) + `","gpp_sid":[7],"time":"2026-11-19T00:00:00Z"}`,
		`{"visitor_id":"withdrawn","purposes":{"advertising":true,"health_data":true},"time":"2026-11-19T00:00:00Z"}`,
		`{"visitor_id":"withdrawn","purposes":{"health_data":false},"time":"2026-11-19T06:00:00Z"}`,
	}, "\n")+"\n")
	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "consent", "import", consents); code != 0 || !strings.Contains(out, "recorded 10") {
		t.Fatalf("consent import: %d %q %q", code, out, errOut)
	}
	for _, tt := range []struct{ visitor, want string }{
		{"ads-only", "dropped 1 no_consent=1"},
		{"both", "accepted 1"},
		{"gpp-health", "accepted 1"},
		{"gpp-no-health", "dropped 1 no_consent=1"},
		{"withdrawn", "dropped 1 no_consent=1"},
	} {
		events := write(t, filepath.Join(dir, tt.visitor+".ndjson"),
			`{"event_id":"e-`+tt.visitor+`","event":"appointment_booked","visitor_id":"`+tt.visitor+`","time":"2026-11-20T10:00:00Z"}`+"\n")
		code, out, errOut := runTally(t, "--config", cfg, "--now", now, "ingest", events)
		if code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("%s: %d %q %q, want %q", tt.visitor, code, out, errOut, tt.want)
		}
	}
}
