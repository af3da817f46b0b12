package intake_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prebid/go-gpp/sections/uspnat"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// Published strings: a US National section where the visitor opted out of
// nothing (decoded in the tests of the IAB's reference GPP libraries,
// iabgpp-es and iabgpp-java, and what OneTrust sets as OTGPPConsent), the
// IAB GPP Consent String Specification's "GPP String Example 1" (a TCF EU
// section, no purpose consented), go-gdpr's TC string test data and
// Prebid.js's documented example TC string (neither consents a purpose).
// Granting TC strings come from tcString, go-gdpr having no encoder.
const (
	gppUSNationalExample = "DBABLA~BVQqAAAAAgA.QA"
	gppTCFEUExample      = "DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
	tcfNoPurposes        = "COyiILmOyiILmADACHENAPCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAAAAAA"
	tcfPrebidExample     = "COwK6gaOwK6gaFmAAAENAPCAAAAAAAAAAAAAAAAAAAAA.IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAAAAFAAECAAAgAAQARAEQAAAAAJAAIAAgAAAYQEAAAQmAgBC3ZAYzUw"
)

// consentRecords decodes a consent body and turns it into records.
func consentRecords(t *testing.T, f *fixture, body string, gpc bool) ([]store.Consent, error) {
	t.Helper()
	c, err := intake.DecodeConsent([]byte(body))
	if err != nil {
		return nil, err
	}
	return f.in.Pipeline.ConsentRecords(c, gpc)
}

// verdict reads the advertising record: "grant", "withdrawal", "none" or
// the error.
func verdict(recs []store.Consent, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	for _, r := range recs {
		if r.Purpose == "advertising" && r.Granted {
			return "grant " + r.Source
		}
		if r.Purpose == "advertising" {
			return "withdrawal " + r.Source
		}
	}
	return "none"
}

func TestTCFStringsDecodeToGrantOrWithdrawal(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name, tcf, want string
	}{
		{"encoded, purposes 1 and 7", tcString([]int{1, 7}, 100, 2), "grant tcf"},
		{"encoded, purposes 1 to 11", tcString([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 100, 2), "grant tcf"},
		{"encoded, purpose 1 only", tcString([]int{1}, 100, 2), "withdrawal tcf"},
		{"encoded, purpose 7 only", tcString([]int{7}, 100, 2), "withdrawal tcf"},
		{"encoded, no purpose", tcString(nil, 100, 2), "withdrawal tcf"},
		{"go-gdpr test data, no purpose", tcfNoPurposes, "withdrawal tcf"},
		{"Prebid.js example, no purpose", tcfPrebidExample, "withdrawal tcf"},
		{"encoded, purposes 1-5 and 7", tcString([]int{1, 2, 3, 4, 5, 7}, 100, 2), "grant tcf"},
	}
	for _, tt := range tests {
		got := verdict(consentRecords(t, f, fmt.Sprintf(`{"visitor_id":"v","tcf":%q}`, tt.tcf), false))
		if got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	// consent.tcf_purposes decides which purposes a grant needs.
	f = newFixture(t, func(o *intake.Options) { o.TCFPurposes = []int{1, 7, 9} })
	if got := verdict(consentRecords(t, f, fmt.Sprintf(`{"visitor_id":"v","tcf":%q}`, tcString([]int{1, 2, 3, 4, 5, 7}, 100, 2)), false)); got != "withdrawal tcf" {
		t.Errorf("tcf_purposes [1,7,9] with 9 not consented: %s, want withdrawal", got)
	}
}

func TestGPPStringsDecodeToGrantOrWithdrawal(t *testing.T) {
	f := newFixture(t, nil)
	nat := func(mod func(*uspnat.USPNATCoreSegment), gpc bool) string {
		c := usNat()
		if mod != nil {
			mod(&c)
		}
		return encodeGPP(t, natSection(c, gpc))
	}
	health := make([]byte, 9)
	tests := []struct {
		name, gpp, sid, want string
	}{
		{"IAB example, US National, no opt-out", gppUSNationalExample, `[7]`, "grant gpp"},
		{"IAB example, TCF EU section, no purpose", gppTCFEUExample, `[2]`, "withdrawal gpp"},
		{"US National, no opt-out", nat(nil, false), `[7]`, "grant gpp"},
		{"US National, sale opt-out", nat(func(c *uspnat.USPNATCoreSegment) { c.SaleOptOut = 1 }, false), `[7]`, "withdrawal gpp"},
		{"US National, sharing opt-out", nat(func(c *uspnat.USPNATCoreSegment) { c.SharingOptOut = 1 }, false), `[7]`, "withdrawal gpp"},
		{"US National, targeted ads opt-out", nat(func(c *uspnat.USPNATCoreSegment) { c.TargetedAdvertisingOptOut = 1 }, false), `[7]`, "withdrawal gpp"},
		{"US National, targeted ads not applicable", nat(func(c *uspnat.USPNATCoreSegment) { c.TargetedAdvertisingOptOut = 0 }, false), `[7]`, "withdrawal gpp"},
		{"US National, GPC subsection set", nat(nil, true), `[7]`, "withdrawal gpp"},
		{"California, no opt-out", encodeGPP(t, caSection(2, 2, health)), `[8]`, "grant gpp"},
		{"California, sharing opt-out", encodeGPP(t, caSection(2, 1, health)), `[8]`, "withdrawal gpp"},
		{"Virginia, targeted ads opt-out", encodeGPP(t, vaSection(1, make([]byte, 8))), `[9]`, "withdrawal gpp"},
		{"National grants, California opts out", encodeGPP(t, natSection(usNat(), false), caSection(1, 2, health)), `[7,8]`, "withdrawal gpp"},
		{"California opts out but does not apply", encodeGPP(t, natSection(usNat(), false), caSection(1, 2, health)), `[7]`, "grant gpp"},
		{"gpp_sid as a string", nat(nil, false), `"7"`, "grant gpp"},
		// US Privacy (section 6) can only restrict: its sale opt-out
		// withdraws what another section grants, and it grants nothing alone.
		{"National grants, US Privacy opts out of sale", encodeGPP(t, natSection(usNat(), false), uspSection("1YYN")), `[6,7]`, "withdrawal gpp"},
		{"National grants, US Privacy does not opt out", encodeGPP(t, natSection(usNat(), false), uspSection("1YNN")), `[6,7]`, "grant gpp"},
		{"US Privacy opt-out alone", encodeGPP(t, uspSection("1YYN")), `[6]`, "withdrawal gpp"},
	}
	for _, tt := range tests {
		got := verdict(consentRecords(t, f, fmt.Sprintf(`{"visitor_id":"v","gpp":%q,"gpp_sid":%s}`, tt.gpp, tt.sid), false))
		if got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestConsentStringsFailClosed: strings that disagree with each other or
// with the purposes sent, and Global Privacy Control, all withdraw.
func TestConsentStringsFailClosed(t *testing.T) {
	f := newFixture(t, nil)
	grantGPP := encodeGPP(t, natSection(usNat(), false))
	grantTCF := tcString([]int{1, 7}, 100, 2)
	tests := []struct {
		name, body string
		gpc        bool
		want       string
	}{
		{"gpp grants, tcf withdraws", fmt.Sprintf(`{"visitor_id":"v","gpp":%q,"gpp_sid":[7],"tcf":%q}`, grantGPP, tcfNoPurposes), false, "withdrawal gpp+tcf"},
		{"gpp and tcf grant", fmt.Sprintf(`{"visitor_id":"v","gpp":%q,"gpp_sid":[7],"tcf":%q}`, grantGPP, grantTCF), false, "grant gpp+tcf"},
		{"purposes grant, tcf withdraws", fmt.Sprintf(`{"visitor_id":"v","purposes":{"advertising":true},"tcf":%q}`, tcfNoPurposes), false, "withdrawal tcf"},
		{"Sec-GPC with a granting string", fmt.Sprintf(`{"visitor_id":"v","gpp":%q,"gpp_sid":[7]}`, grantGPP), true, "withdrawal gpp"},
	}
	for _, tt := range tests {
		if got := verdict(consentRecords(t, f, tt.body, tt.gpc)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// malformedStrings are consent strings that must not decode, with a part
// of the reason the decoder gives.
func malformedStrings(t *testing.T) []struct{ name, fields, reason string } {
	nat := encodeGPP(t, natSection(usNat(), false))
	v2 := usNat()
	v2.Version = 2
	return []struct{ name, fields, reason string }{
		{"TC string with vendor list version 0", fmt.Sprintf(`"tcf":%q`, tcString([]int{1, 7}, 0, 2)), "VendorListVersion of 0"},
		{"TC string version 1", fmt.Sprintf(`"tcf":%q`, tcString([]int{1, 7}, 100, 1)), "Version of 1"},
		{"TC string version 3", fmt.Sprintf(`"tcf":%q`, tcString([]int{1, 7}, 100, 3)), "version 3 is not 2"},
		{"TC string truncated", fmt.Sprintf(`"tcf":%q`, tcString([]int{1, 7}, 100, 2)[:30]), "at least 29 bytes"},
		{"TC string not base64", `"tcf":"C!!!"`, "illegal base64"},
		{"GPP header, body truncated", fmt.Sprintf(`"gpp":%q,"gpp_sid":[7]`, nat[:strings.Index(nat, "~")+4]), "parse error"},
		{"GPP header without the sections it lists", `"gpp":"DBABLA","gpp_sid":[7]`, "do not match the number of sections"},
		{"gpp_sid names a section the string lacks", fmt.Sprintf(`"gpp":%q,"gpp_sid":[7,8]`, nat), "section 8, which the string does not carry"},
		{"gpp_sid names no section tally reads", `"gpp":"DBABTA~1YNN","gpp_sid":[6]`, "no section tally reads"},
		{"US Privacy string of another version", fmt.Sprintf(`"gpp":%q,"gpp_sid":[6]`, encodeGPP(t, uspSection("2YYN"))), "starting with version 1"},
		{"US Privacy string with another letter", fmt.Sprintf(`"gpp":%q,"gpp_sid":[6,7]`, encodeGPP(t, natSection(usNat(), false), uspSection("1YXN"))), "Y, N or -"},
		{"gpp without gpp_sid", fmt.Sprintf(`"gpp":%q`, nat), "gpp_sid: required"},
		{"gpp_sid without gpp", `"gpp_sid":[7]`, "gpp_sid: given without gpp"},
		{"gpp_sid not ids", fmt.Sprintf(`"gpp":%q,"gpp_sid":"seven"`, nat), "gpp_sid: must list"},
		{"US National version 2 in version 1's layout", fmt.Sprintf(`"gpp":%q,"gpp_sid":[7]`, encodeGPP(t, natSection(v2, false))), "core segment of 11 characters"},
		{"not a GPP header", `"gpp":"CPXxRfAPXxRfAAfKABENB","gpp_sid":[2]`, "header must have type"},
		// Both hang go-gpp v0.2.0 without checkGPPHeader: a range
		// ending at id 65535 (its uint16 loop never ends), and a long run
		// of zero bits in the header's Fibonacci codes (found by
		// FuzzConsentStrings; exponential recursion).
		// The header lists section 65535 (go-gpp's encoder refuses to
		// write it; the bits were laid out by hand: type 3, version 1, one
		// entry, not a range, 65535 Fibonacci-coded).
		{"GPP section id 65535", `"gpp":"DBABECUFg~x","gpp_sid":[65535]`, "out of bounds"},
		{"GPP header, long zero run", `"gpp":"D-CgAAAAAAAAAAYgAAAAAAAE","gpp_sid":[2]`, "out of bounds"},
		{"huge string", fmt.Sprintf(`"tcf":"C%s"`, strings.Repeat("A", 9000)), "tcf: longer than 8192"},
		{"health_data not a boolean", `"health_data":"yes"`, "health_data: must be true or false"},
	}
}

// TestMalformedConsentStringsAreRefused: a string that does not decode is
// a 400 on /v1/consent and an invalid event on /v1/events, with the
// decoder's reason, and nothing is stored.
func TestMalformedConsentStringsAreRefused(t *testing.T) {
	f := newFixture(t, nil)
	srv := newHTTP(t, f)
	f.consent(t, "v", true, testNow.Add(-time.Hour))
	for _, tt := range malformedStrings(t) {
		resp, body := post(t, srv.URL+"/v1/consent", "application/json", fmt.Sprintf(`{"visitor_id":"v",%s}`, tt.fields))
		if resp.StatusCode != 400 || !strings.Contains(body, tt.reason) {
			t.Errorf("consent, %s: %d %s, want 400 naming %q", tt.name, resp.StatusCode, body, tt.reason)
		}
		sum := f.send(t, false, ev("e-"+tt.name, "appointment_booked", "v", ","+tt.fields))
		if len(sum.Invalid) != 1 || !strings.Contains(sum.Invalid[0].Error, tt.reason) {
			t.Errorf("event, %s: %+v, want invalid naming %q", tt.name, sum, tt.reason)
		}
	}
	if n := len(sqlfile.Blobs(t, sqlfile.Open(t, f.db.Path), `SELECT visitor_key FROM consents`)); n != 1 {
		t.Errorf("%d consent rows, want only the one recorded before", n)
	}
}

// TestEventCarriesItsConsentString: an event's string is what the CMP said
// when it was made. A grant lets it through and is kept for later events;
// a withdrawal drops it even after a stored grant. Only the decision is
// stored, with the framework as source, never the string.
func TestEventCarriesItsConsentString(t *testing.T) {
	f := newFixture(t, nil)
	grant := encodeGPP(t, natSection(usNat(), false))
	optOut := usNat()
	optOut.SaleOptOut = 1
	withdraw := encodeGPP(t, natSection(optOut, false))
	if got := outcome(f.send(t, false, ev("e1", "appointment_booked", "v", fmt.Sprintf(`,"gpp":%q,"gpp_sid":[7]`, grant)))); got != "accepted" {
		t.Fatalf("event with a granting string: %s, want accepted", got)
	}
	if got := outcome(f.send(t, false, ev("e2", "contact_form_submitted", "v", ""))); got != "accepted" {
		t.Errorf("later event without a string: %s, want accepted (the grant was kept)", got)
	}
	if got := outcome(f.send(t, false, ev("e3", "appointment_booked", "v", fmt.Sprintf(`,"gpp":%q,"gpp_sid":[7]`, withdraw)))); got != "dropped/no_consent" {
		t.Errorf("event with a withdrawing string: %s, want dropped/no_consent", got)
	}
	// A withdrawal the event carries wins over a grant stored after it.
	f.consent(t, "v4", true, testNow.Add(time.Minute))
	if got := outcome(f.send(t, false, ev("e6", "appointment_booked", "v4", fmt.Sprintf(`,"time":%q,"gpp":%q,"gpp_sid":[7]`,
		testNow.Add(-time.Minute).Format(time.RFC3339), withdraw)))); got != "dropped/no_consent" {
		t.Errorf("event withdrawing before a later stored grant: %s, want dropped/no_consent", got)
	}
	if got := outcome(f.send(t, false, ev("e4", "contact_form_submitted", "v2", fmt.Sprintf(`,"tcf":%q`, tcString([]int{1, 7}, 100, 2))))); got != "accepted" {
		t.Errorf("event with a granting TC string: %s, want accepted", got)
	}
	if got := outcome(f.send(t, true, ev("e5", "contact_form_submitted", "v3", fmt.Sprintf(`,"gpp":%q,"gpp_sid":[7]`, grant)))); got != "dropped/gpc" {
		t.Errorf("Sec-GPC event with a granting string: %s, want dropped/gpc", got)
	}
	db := sqlfile.Open(t, f.db.Path)
	rows, err := db.Query(`SELECT purpose, granted, source FROM consents ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	_, all := sqlfile.All(t, rows)
	if got, want := fmt.Sprint(all), "[[advertising 1 gpp] [advertising 0 gpp] [advertising 1 <nil>] [advertising 0 gpp] [advertising 1 tcf]]"; got != want {
		t.Errorf("consents = %s, want %s", got, want)
	}
	f.db.Close()
	raw, err := os.ReadFile(f.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{grant, withdraw, grant[strings.Index(grant, "~")+1:]} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the database file holds a consent string")
		}
	}
}

// TestHealthDataField: under consent.require_sensitive the top-level
// health_data field of a consent record or an event counts like the
// health_data purpose; without it, it is not kept.
func TestHealthDataField(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.RequireSensitive = true })
	srv := newHTTP(t, f)
	if resp, body := post(t, srv.URL+"/v1/consent", "application/json", `{"visitor_id":"v","purposes":{"advertising":true},"health_data":true}`); !strings.Contains(body, `"recorded":2`) {
		t.Fatalf("consent with health_data: %d %s, want 2 records", resp.StatusCode, body)
	}
	if got := outcome(f.send(t, false, ev("h1", "appointment_booked", "v", ""))); got != "accepted" {
		t.Errorf("both granted: %s, want accepted", got)
	}
	if got := outcome(f.send(t, false, ev("h2", "contact_form_submitted", "v", `,"health_data":false`))); got != "dropped/no_consent" {
		t.Errorf("event withdrawing health_data: %s, want dropped/no_consent", got)
	}
	if got := outcome(f.send(t, false, ev("h3", "contact_form_submitted", "v", ""))); got != "dropped/no_consent" {
		t.Errorf("after the withdrawal: %s, want dropped/no_consent", got)
	}
	f = newFixture(t, nil)
	if recs, err := consentRecords(t, f, `{"visitor_id":"v","health_data":true}`, false); err != nil || len(recs) != 0 {
		t.Errorf("health_data without require_sensitive: %+v %v, want nothing kept", recs, err)
	}
}

// TestImportCSVCarriesConsentStrings: consent and event CSV imports read
// the gpp, gpp_sid, tcf and health_data columns like the JSON fields.
func TestImportCSVCarriesConsentStrings(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.RequireSensitive = true })
	sensitive := usNat()
	sensitive.SensitiveDataProcessing[2] = 2
	gppBoth := encodeGPP(t, natSection(sensitive, false))
	gppAdsOnly := encodeGPP(t, natSection(usNat(), false))
	in := "visitor_id,advertising,health_data,time,gpp,gpp_sid,tcf\n" +
		fmt.Sprintf("a,,,2026-11-19T00:00:00Z,%s,7,\n", gppBoth) +
		fmt.Sprintf("b,,true,2026-11-19T00:00:00Z,,,%s\n", tcString([]int{1, 7}, 100, 2)) +
		fmt.Sprintf("c,,,2026-11-19T00:00:00Z,%s,\"7,8\",\n", gppAdsOnly) +
		"d,true,,2026-11-19T00:00:00Z,,,\n"
	var errs strings.Builder
	n, err := f.in.ImportConsents(context.Background(), f.db, strings.NewReader(in), intake.ImportOptions{Name: "c.csv", Errors: &errs})
	if err != nil || n.Recorded != 5 || n.Invalid != 1 || !strings.Contains(errs.String(), "c.csv: line 4: gpp: gpp_sid names section 8") {
		t.Fatalf("import: %+v %v %q", n, err, errs.String())
	}
	events := "event_id,event,visitor_id,gpp,gpp_sid,health_data\n" +
		"1,appointment_booked,a,,,\n" + "2,appointment_booked,b,,,\n" + "3,appointment_booked,d,,,\n" +
		fmt.Sprintf("4,appointment_booked,e,%s,7,true\n", gppBoth) +
		"5,appointment_booked,f,,,perhaps\n"
	sum, err := f.in.ImportEvents(context.Background(), strings.NewReader(events), intake.ImportOptions{Name: "e.csv", Format: "csv", Errors: &errs})
	if err != nil || sum.Accepted != 3 || sum.Dropped[tally.ReasonNoConsent] != 1 || len(sum.Invalid) != 1 {
		t.Errorf("events: %+v %v, want a, b and e accepted, d no_consent, f invalid", sum, err)
	}
}

// TestGPPHealthFieldPerSection: the health_data grant is read from each
// section's own health field (US National 3, California 8, Virginia 3,
// counted from 1 as the IAB section specifications number them), and from
// no neighbouring field.
func TestGPPHealthFieldPerSection(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.RequireSensitive = true })
	health := func(gpp, sid string) string {
		recs, err := consentRecords(t, f, fmt.Sprintf(`{"visitor_id":"v","gpp":%q,"gpp_sid":[%s]}`, gpp, sid), false)
		if err != nil {
			return err.Error()
		}
		for _, r := range recs {
			if r.Purpose == intake.SensitivePurpose {
				return fmt.Sprint(r.Granted)
			}
		}
		return "none"
	}
	only := func(n, at int) []byte {
		b := make([]byte, n)
		b[at-1] = 2
		return b
	}
	nat := func(at int) string {
		c := usNat()
		c.SensitiveDataProcessing = only(12, at)
		return encodeGPP(t, natSection(c, false))
	}
	for _, tt := range []struct {
		name, gpp, sid, want string
	}{
		{"US National field 3", nat(3), "7", "true"},
		{"US National field 4", nat(4), "7", "false"},
		{"California field 8", encodeGPP(t, caSection(2, 2, only(9, 8))), "8", "true"},
		{"California field 3", encodeGPP(t, caSection(2, 2, only(9, 3))), "8", "false"},
		{"Virginia field 3", encodeGPP(t, vaSection(2, only(8, 3))), "9", "true"},
		{"Virginia field 5", encodeGPP(t, vaSection(2, only(8, 5))), "9", "false"},
	} {
		if got := health(tt.gpp, tt.sid); got != tt.want {
			t.Errorf("%s: health_data granted = %s, want %s", tt.name, got, tt.want)
		}
	}
}
