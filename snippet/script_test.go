package snippet

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// budget is what a browser may download for the script, gzipped: 3 KB.
const budget = 3 * 1024

func TestScriptSizeBudget(t *testing.T) {
	if n := GzipSize(); n >= budget {
		t.Errorf("tally.js is %d bytes gzipped, budget %d", n, budget)
	}
	t.Logf("tally.js: %d bytes, %d gzipped", len(source), GzipSize())
}

// TestScriptReadable keeps the embedded file the readable source, not a
// minified bundle: short lines, comments, indentation.
func TestScriptReadable(t *testing.T) {
	lines := strings.Split(string(source), "\n")
	if len(lines) < 40 {
		t.Errorf("%d lines: looks minified", len(lines))
	}
	for i, l := range lines {
		if len(l) > 120 {
			t.Errorf("line %d is %d characters long", i+1, len(l))
		}
	}
	if n := bytes.Count(source, []byte("//")) + bytes.Count(source, []byte("/*")); n < 5 {
		t.Errorf("only %d comments", n)
	}
}

// TestScriptNoThirdPartyCode: nothing is loaded or evaluated from anywhere,
// and no address but the project's own appears.
func TestScriptNoThirdPartyCode(t *testing.T) {
	for _, bad := range []string{
		"import ", "import(", "require(", "eval(", "Function(", "document.write",
		"createElement", "importScripts", "XMLHttpRequest", "innerHTML",
	} {
		if bytes.Contains(source, []byte(bad)) {
			t.Errorf("script contains %q", bad)
		}
	}
	for _, u := range regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindAll(source, -1) {
		if !bytes.Contains(u, []byte("github.com")) {
			t.Errorf("script names an address: %s", u)
		}
	}
}

// TestScriptReadsNothingAboutThePage pins the privacy contract in the
// source: the only parts of the page it reads are the query (for the two
// utm parameters), the scheme (for the cookie's Secure flag), its own cookie
// and its own script tag. The browser test proves the behaviour; this keeps
// a later edit from reaching for more.
func TestScriptReadsNothingAboutThePage(t *testing.T) {
	for _, bad := range []string{
		"location.href", "location.pathname", "location.hash", "location.host",
		"location.toString", "document.URL", "documentURI", "document.referrer",
		"document.title", ".value", "FormData", "querySelector", "getElementsBy",
		"forms", "userAgent", "navigator.language", "screen.", "innerText",
		"textContent",
	} {
		if bytes.Contains(source, []byte(bad)) {
			t.Errorf("script reads %q", bad)
		}
	}
	// URLSearchParams is read for exactly two names.
	got := regexp.MustCompile(`q\.get\('([a-z_]+)'\)`).FindAllSubmatch(source, -1)
	var names []string
	for _, m := range got {
		names = append(names, string(m[1]))
	}
	if strings.Join(names, ",") != "utm_source,utm_campaign" {
		t.Errorf("query parameters read: %v, want utm_source, utm_campaign", names)
	}
	if n := strings.Count(string(source), "location."); n != 2 {
		t.Errorf("location read %d times, want 2 (search, protocol)", n)
	}
}
