package intake_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/sqlfile"
)

// TestConsentLabelsOnlyFromAllowlists checks that a consent source or
// version is stored only when it is on consent.sources or consent.versions:
// any other label is dropped (and counted), and the decision is kept.
func TestConsentLabelsOnlyFromAllowlists(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.ConsentVersions = []string{"policy-v3"} })
	f.in.Metrics = intake.NewMetrics()
	f.in.Pipeline.Metrics = f.in.Metrics
	srv := newHTTP(t, f)
	bodies := []string{
		`{"visitor_id":"v1","purposes":{"advertising":true},"source":"MRN:00123456","version":"DOB-1975-03-12"}`,
		`{"visitor_id":"v2","purposes":{"advertising":true},"source":"Diagnosis-HIV-positive"}`,
		`{"visitor_id":"v3","purposes":{"advertising":false},"source":"Dr. Jane <jane@x.org>","version":"+15551234567"}`,
		`{"visitor_id":"v4","purposes":{"advertising":true},"source":"John Smith","version":"` + strings.Repeat("x", 300) + `"}`,
		`{"visitor_id":"v5","purposes":{"advertising":true},"source":"tally.js","version":"policy-v3"}`,
		`{"visitor_id":"v6","purposes":{"advertising":true},"source":"import","version":"policy-v4"}`,
		`{"visitor_id":"v7","purposes":{"advertising":true},"source":"cmp"}`,
	}
	for i, b := range bodies {
		resp, body := post(t, srv.URL+"/v1/consent", "application/json", b)
		if resp.StatusCode != 200 || !strings.Contains(body, `"recorded":1`) {
			t.Errorf("body %d: %d %s, want 200 with the decision recorded", i, resp.StatusCode, body)
		}
	}
	rows, err := sqlfile.Open(t, f.db.Path).Query(`SELECT granted, coalesce(source, '-'), coalesce(version, '-') FROM consents ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var granted int
		var source, version string
		if err := rows.Scan(&granted, &source, &version); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{[]string{"withdrawn", "granted"}[granted], source, version}, "/"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"granted/-/-", "granted/-/-", "withdrawn/-/-", "granted/-/-",
		"granted/tally.js/policy-v3", "granted/import/-", "granted/cmp/-"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stored consents:\n got %v\nwant %v", got, want)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{`tally_consent_labels_dropped_total{label="source"} 4`, `tally_consent_labels_dropped_total{label="version"} 4`} {
		if !strings.Contains(string(b), line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// TestConsentVersionsDefaultStoresNone checks that with the default
// (empty) consent.versions no version is stored at all.
func TestConsentVersionsDefaultStoresNone(t *testing.T) {
	f := newFixture(t, nil)
	c, err := intake.DecodeConsent([]byte(`{"visitor_id":"v","purposes":{"advertising":true},"source":"tally.js","version":"policy-v3"}`))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := f.in.Pipeline.ConsentRecords(c, false)
	if err != nil || len(recs) != 1 {
		t.Fatalf("ConsentRecords: %d records, err=%v", len(recs), err)
	}
	if rec := recs[0]; rec.Source != "tally.js" || rec.Version != "" {
		t.Errorf("source %q version %q, want tally.js and no version", recs[0].Source, recs[0].Version)
	}
}

// TestConsentLabelsMatchExactly checks that a label is kept only when it is
// byte for byte on its list: another case, a trailing space, a fullwidth or
// decomposed form, or an invisible character appended is dropped.
func TestConsentLabelsMatchExactly(t *testing.T) {
	f := newFixture(t, func(o *intake.Options) { o.ConsentVersions = []string{"policy-v3", "ete-2"} })
	srv := newHTTP(t, f)
	for i, l := range [][2]string{{"TALLY.JS", "POLICY-V3"}, {"tally.js ", "policy-v3 "}, {"ｔａｌｌｙ.js", "ｐolicy-v3"},
		{"tally.js\u200b", "policy-v3\u2060"}, {"tally.js\u00a0", "e\u0301te-2"}, {" cmp", "policy\u2011v3"}} {
		b := fmt.Sprintf(`{"visitor_id":"v%d","purposes":{"advertising":true},"source":%q,"version":%q}`, i, l[0], l[1])
		if resp, body := post(t, srv.URL+"/v1/consent", "application/json", b); resp.StatusCode != 200 || !strings.Contains(body, `"recorded":1`) {
			t.Fatalf("labels %q: %d %s, want the decision recorded", l, resp.StatusCode, body)
		}
	}
	var n int
	if err := sqlfile.Open(t, f.db.Path).QueryRow(`SELECT count(*) FROM consents WHERE source IS NOT NULL OR version IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d consents kept a label that is not exactly on its list", n)
	}
}
