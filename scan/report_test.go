package scan

import (
	"bytes"
	"errors"
	"testing"
)

func TestVerdict(t *testing.T) {
	found := []Finding{{Page: "/a", Tracker: "meta_pixel"}, {Page: "/a", Tracker: "gtag"}, {Page: "/b", Tracker: "gtag"}}
	failed := []Skip{{URL: "https://x.example/", Reason: "connection refused"}}
	for _, tc := range []struct {
		name           string
		res            Result
		failOnFindings bool
		want           string // "" for nil
		incomplete     bool
	}{
		{"clean", Result{Pages: []string{"/a"}}, true, "", false},
		{"findings", Result{Findings: found}, true, "scan: found 3 trackers on 2 pages", false},
		{"findings, --fail-on none", Result{Findings: found}, false, "", false},
		{"a target failed", Result{Failed: failed}, false, "scan: could not scan https://x.example/: connection refused", false},
		{"findings and a failed target", Result{Findings: found, Failed: failed}, true,
			"scan: found 3 trackers on 2 pages; could not scan https://x.example/: connection refused", false},
		{"truncated, nothing found", Result{Truncated: []string{"/big", "/app.js"}}, true,
			"scan: incomplete: 2 pages or scripts truncated at the byte cap; no tracker found in what was read", true},
		{"truncated, findings, --fail-on none", Result{Findings: found, Truncated: []string{"/big"}}, false, "", false},
	} {
		err := tc.res.Verdict(tc.failOnFindings)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want || errors.Is(err, ErrIncomplete) != tc.incomplete {
			t.Errorf("%s: %v (incomplete %v), want %q (incomplete %v)", tc.name, err, errors.Is(err, ErrIncomplete), tc.want, tc.incomplete)
		}
	}
}

func TestWriteJSONListsAreNeverNull(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, Result{}); err != nil {
		t.Fatal(err)
	}
	want := `{
  "findings": [],
  "truncated": [],
  "not_checked": [],
  "failed": [],
  "pages_read": 0,
  "scripts_read": 0,
  "unvisited": 0
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
