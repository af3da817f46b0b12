package intake_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tally-health/tally/intake"
)

// US National version 2 strings written by the IAB's own encoder,
// @iabgpp/cmpapi 3.2.0 (npm pack @iabgpp/cmpapi@3.2.0, then in node:
// m = new GppModel(); m.setFieldValue("usnat", field, value) for each
// field; m.encode()). Every string starts from a visitor given notice of
// sale, sharing and targeted advertising (each Notice 1) who opted out of
// none (each OptOut 2), then changes what its name says. usNat2Grant is
// the example string of issue 14; cmd/tally's TestCMPInBrowser/usnat
// page (no SharingNotice) sends "DBABLA~CFQqAAAAAABA.QA" for a grant.
const (
	usNat2Grant          = "DBABLA~CVQqAAAAAABA.QA"
	usNat2SaleOptOut     = "DBABLA~CVQaAAAAAABA.QA" // SaleOptOut 1
	usNat2SharingOptOut  = "DBABLA~CVQmAAAAAABA.QA" // SharingOptOut 1
	usNat2TargetedOptOut = "DBABLA~CVQpAAAAAABA.QA" // TargetedAdvertisingOptOut 1
	usNat2TargetedNA     = "DBABLA~CVQoAAAAAABA.QA" // TargetedAdvertisingOptOut 0
	usNat2GPC            = "DBABLA~CVQqAAAAAABA.YA" // Gpc true
	// SensitiveDataProcessing [0,0,2,0,...]: health (field 3) consented.
	usNat2Health = "DBABLA~CVQqCAAAAABA.QA"
	// SensitiveDataProcessing [0,0,0,2,0,...]: only field 4 consented.
	usNat2Field4 = "DBABLA~CVQqAgAAAABA.QA"
	// SensitiveDataProcessing [0,0,1,0,0,0,0,0,0,0,0,0,2,2,2,2] and
	// KnownChildSensitiveDataConsents [2,2,2]: the fields version 2 added
	// all consented, health not.
	usNat2NewFields = "DBABLA~CVQqBAAAqqhA.QA"
)

func TestUSNational2DecodesToGrantOrWithdrawal(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct{ name, gpp, want string }{
		{"no opt-out", usNat2Grant, "grant gpp"},
		{"no opt-out, no sharing notice", "DBABLA~CFQqAAAAAABA.QA", "grant gpp"},
		{"sale opt-out", usNat2SaleOptOut, "withdrawal gpp"},
		{"sharing opt-out", usNat2SharingOptOut, "withdrawal gpp"},
		{"targeted ads opt-out", usNat2TargetedOptOut, "withdrawal gpp"},
		{"targeted ads not applicable", usNat2TargetedNA, "withdrawal gpp"},
		{"GPC sub-section set", usNat2GPC, "withdrawal gpp"},
		{"no opt-out, health consented", usNat2Health, "grant gpp"},
		{"no opt-out, the new fields consented", usNat2NewFields, "grant gpp"},
		// The IAB test suite's expected encodings (iabgpp-es 3.2.0,
		// modules/cmpapi/test/encoder/section/UsNat.test.ts): the default
		// section opts out of nothing but gives no notice either, so
		// targeted advertising is "not applicable"; the other sets every
		// opt-out to 1.
		{"IAB test, default", "DBABLA~CAAAAAAAAABA.QA", "withdrawal gpp"},
		{"IAB test, default without GPC", "DBABLA~CAAAAAAAAABA", "withdrawal gpp"},
		{"IAB test, all opted out", "DBABLA~CVVVkkkkkpFY.YA", "withdrawal gpp"},
	} {
		got := verdict(consentRecords(t, f, fmt.Sprintf(`{"visitor_id":"v","gpp":%q,"gpp_sid":[7]}`, tt.gpp), false))
		if got != tt.want {
			t.Errorf("%s (%s): %s, want %s", tt.name, tt.gpp, got, tt.want)
		}
	}
}

// TestUSNational2HealthField: with require_sensitive, health_data is read
// from SensitiveDataProcessing field 3 of version 2 as of version 1, and
// from none of the fields version 2 added.
func TestUSNational2HealthField(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.RequireSensitive = true })
	for _, tt := range []struct {
		name, gpp string
		want      bool
	}{
		{"field 3 consented", usNat2Health, true},
		{"field 3 not applicable", usNat2Grant, false},
		{"only field 4 consented", usNat2Field4, false},
		{"fields 13-16 consented, field 3 not", usNat2NewFields, false},
	} {
		recs, err := consentRecords(t, f, fmt.Sprintf(`{"visitor_id":"v","gpp":%q,"gpp_sid":[7]}`, tt.gpp), false)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, found := false, false
		for _, r := range recs {
			if r.Purpose == intake.SensitivePurpose {
				got, found = r.Granted, true
			}
		}
		if !found || got != tt.want {
			t.Errorf("%s: health_data recorded %v, granted %v, want granted %v", tt.name, found, got, tt.want)
		}
	}
}

// TestUSNational2Malformed: a version 2 section that is cut short, too
// long, not base64url, carries an undefined value or a bad GPC
// sub-section is refused with a reason and records nothing.
func TestUSNational2Malformed(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct{ name, section, reason string }{
		{"core cut to 11 characters", "CVQqAAAAAAB.QA", "core segment of 11 characters, want 12"},
		{"core cut to version 1's 10 characters", "CVQqAAAAAA", "core segment of 10 characters"},
		{"core one character long", "CVQqAAAAAABAA.QA", "core segment of 13 characters"},
		{"core cut to 3 characters", "CVQ", "parse error"},
		{"third segment", "CVQqAAAAAABA.QA.QA", "3 segments"},
		{"sale opt-out 3", "CVQ6AAAAAABA.QA", "undefined value 3 at bit 18"},
		{"health 3", "CVQqDAAAAABA.QA", "undefined value 3 at bit 28"},
		{"GPC sub-section empty", "CVQqAAAAAABA.", "parse error"},
		{"GPC sub-section of type 2", "CVQqAAAAAABA.gA", "invalid subsection type 2"},
		{"padding", "CVQqAAAAAA==.QA", "illegal base64"},
		{"not base64url", "CVQqAAAAA+BA.QA", "illegal base64"},
		{"version 3", "DVQqAAAAAABA.QA", "version 3 is not read"},
	} {
		body := fmt.Sprintf(`{"visitor_id":"v","gpp":"DBABLA~%s","gpp_sid":[7]}`, tt.section)
		recs, err := consentRecords(t, f, body, false)
		if err == nil || len(recs) > 0 {
			t.Errorf("%s: %d records, error %v; want refused", tt.name, len(recs), err)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: %v, want a reason naming %q", tt.name, err, tt.reason)
		}
	}
}
