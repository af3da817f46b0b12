package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tally-health/tally/internal/sqlfile"
)

// cmpPages are the consent managers tally.js follows (data-consent), each
// as a page runs it: head is what the page holds before tally.js, and it
// defines cmp.grant() and cmp.withdraw() as a visitor's clicks in the
// banner. TCF and GPP run the IAB's own libraries (served from the npm
// cache under /npm/), which encode the strings; OneTrust and Cookiebot have
// no public library and get stand-ins of their documented globals.
var cmpPages = []struct {
	name   string // the page, its subtest and its event (NAME_booked)
	kind   string // data-consent
	attrs  string // more attributes on the script tag
	head   string
	source string // the consents.source the intake stores
	iab    bool   // needs the IAB libraries
}{{
	name: "onetrust", kind: "onetrust", attrs: `data-onetrust-group="C0009"`, source: "cmp",
	// OneTrust's SDK sets OnetrustActiveGroups and calls the page's
	// OptanonWrapper once loaded and after every choice. The page has its
	// own OptanonWrapper, which must still be called. C0004 stays active
	// throughout: the group that counts is the one on the script tag.
	head: `<script>
	window.siteWrapperCalls = 0;
	function OptanonWrapper() { siteWrapperCalls++; }
	const groups = g => { window.OnetrustActiveGroups = g; OptanonWrapper(); };
	addEventListener("load", () => groups(",C0001,C0004,"));
	window.cmp = {grant: () => groups(",C0001,C0004,C0009,"), withdraw: () => groups(",C0001,C0004,")};
	</script>`,
}, {
	name: "cookiebot", kind: "cookiebot", source: "cmp",
	// Cookiebot's script sets window.Cookiebot and fires CookiebotOnAccept
	// or CookiebotOnDecline on a choice. Accepting statistics only is an
	// accept without marketing: not a grant.
	head: `<script>
	window.Cookiebot = {hasResponse: false, consent: {necessary: true, preferences: false, statistics: false, marketing: false}};
	const choose = (event, statistics, marketing) => {
		Object.assign(Cookiebot.consent, {statistics, marketing});
		Cookiebot.hasResponse = true;
		dispatchEvent(new Event(event));
	};
	window.cmp = {
		statisticsOnly: () => choose("CookiebotOnAccept", true, false),
		grant: () => choose("CookiebotOnAccept", true, true),
		withdraw: () => choose("CookiebotOnDecline", false, false),
	};
	</script>`,
}, {
	name: "tcf", kind: "tcf", source: "tcf", iab: true,
	// A TCF CMP: @iabtechlabtcf/cmpapi answers __tcfapi, and
	// @iabtechlabtcf/core encodes the TC strings against a vendor list
	// (here a minimal one: the eleven purposes, no vendors). A new visitor
	// sees the banner (an empty string), consents to purposes 1 and 7, then
	// reopens the banner and keeps purpose 1 only.
	head: `<script type="importmap">{"imports": {"@iabtechlabtcf/core": "/npm/@iabtechlabtcf/core@1.5.21/lib/mjs/index.js"}}</script>
	<script type="module">
	import {CmpApi} from "/npm/@iabtechlabtcf/cmpapi@1.5.21/lib/mjs/index.js";
	import {GVL, TCModel, TCString} from "@iabtechlabtcf/core";
	const purposes = {};
	for (let id = 1; id <= 11; id++) purposes[id] = {id, name: "Purpose " + id, description: "", illustrations: []};
	const gvl = new GVL({gvlSpecificationVersion: 3, vendorListVersion: 1, tcfPolicyVersion: 5,
		lastUpdated: "2026-11-01T00:00:00Z", purposes, specialPurposes: {}, features: {},
		specialFeatures: {}, stacks: {}, dataCategories: {}, vendors: {}});
	const encode = ids => {
		const m = new TCModel(gvl);
		Object.assign(m, {cmpId: 300, cmpVersion: 1, isServiceSpecific: true});
		m.purposeConsents.set(ids);
		return TCString.encode(m);
	};
	const api = new CmpApi(300, 1, true);
	api.update("", true);
	window.cmp = {
		grant: () => api.update(encode([1, 7]), false),
		withdraw: () => { api.update(encode([1, 7]), true); api.update(encode([1]), false); },
	};
	</script>`,
}, {
	// A GPP CMP on a US page, US National section (7), which
	// @iabgpp/cmpapi 3.2.0 writes as version 2, and on a California page
	// (section 8).
	name: "usnat", kind: "gpp", source: "gpp", iab: true,
	head: gppPage("usnat", 7, "SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut"),
}, {
	name: "usca", kind: "gpp", source: "gpp", iab: true,
	head: gppPage("usca", 8, "SaleOptOut", "SharingOptOut"),
}}

// gppPage is a GPP CMP's script for a page where one US section applies:
// @iabgpp/cmpapi answers __gpp and encodes the section. The visitor is
// given notice of each opt-out and does not opt out (the grant), then opts
// out of all of them (the withdrawal).
func gppPage(section string, id int, optOuts ...string) string {
	var notices, granted, withdrawn []string
	for _, f := range optOuts {
		notices = append(notices, f+"Notice: 1")
		granted = append(granted, f+": 2")
		withdrawn = append(withdrawn, f+": 1")
	}
	return fmt.Sprintf(`<script type="module">
	import {CmpApi} from "/npm/@iabgpp/cmpapi@3.2.0/lib/mjs/index.js";
	const api = new CmpApi(300, 1);
	api.setApplicableSections([%d]);
	const set = fields => { for (const [k, v] of Object.entries(fields)) api.setFieldValue(%q, k, v); };
	set({%s});
	window.cmp = {
		grant: () => { set({%s}); api.setSignalStatus("ready"); },
		withdraw: () => {
			api.setSignalStatus("not ready");
			set({%s});
			api.fireSectionChange(%[2]q);
			api.setSignalStatus("ready");
		},
	};
	</script>`, id, section, strings.Join(notices, ", "), strings.Join(granted, ", "), strings.Join(withdrawn, ", "))
}

// TestCMPInBrowser runs tally.js with data-consent set to each consent
// manager in headless Chromium against the real binary: the event before
// any choice is dropped, the CMP's grant is stored (source cmp for OneTrust
// and Cookiebot, the framework for TCF and GPP, whose strings the intake
// decodes), the next event is accepted, the CMP's withdrawal is stored and
// the event after it is dropped. Under Global Privacy Control a CMP's grant
// sends nothing and stores no visitor id.
func TestCMPInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	npmDir, npmSkip, err := iabLibraries()
	if err != nil {
		t.Fatal(err)
	}
	var scriptURL string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/npm/"); ok && npmSkip == "" {
			http.ServeFile(w, r, filepath.Join(npmDir, filepath.FromSlash(rest)))
			return
		}
		if r.URL.Path == "/plain" {
			// A page without a CMP (or with the globals a CMP left from an
			// earlier page, the query's pre): console warnings kept.
			fmt.Fprintf(w, `<!doctype html><html><head><script>window.warnings = []; console.warn = m => warnings.push(m);%s</script>
<script src="%s" defer data-consent="%s"></script></head><body><p id="ready">ready</p></body></html>`,
				r.URL.Query().Get("pre"), scriptURL, r.URL.Query().Get("consent"))
			return
		}
		for _, p := range cmpPages {
			if r.URL.Path == "/cmp/"+p.name {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><html><head><title>Cardiology</title>%s
<script src="%s" defer data-consent="%s" %s></script></head><body><p id="ready">ready</p></body></html>`,
					p.head, scriptURL, p.kind, p.attrs)
				return
			}
		}
		http.NotFound(w, r)
	}))
	defer site.Close()

	dir, cfgPath := storeConfig(t, "cmp", fmt.Sprintf(`[intake]
allowed_origins = [%q]
[consent]
sources = ["tally.js", "cmp", "tcf", "gpp"]
[events]
onetrust_booked = "onetrust"
cookiebot_booked = "cookiebot"
tcf_booked = "tcf"
usnat_booked = "usnat"
usca_booked = "usca"
[sources]
facebook = "meta"
`, site.URL))
	srv := startServe(t, dir, nil, "--config", cfgPath)
	// A recording proxy in front of the intake: a failure shows what the
	// page posted.
	rec := &recorder{}
	collector := httptest.NewServer(rec.handler(&url.URL{Scheme: "http", Host: srv.Addr}))
	defer collector.Close()
	scriptURL = collector.URL + "/v1/tally.js"
	// One connection of the test's own, read as an auditor would.
	db := sqlfile.Open(t, filepath.Join(dir, "cmp.db"))
	count := func(q string, args ...any) func() (int, error) {
		return func() (int, error) {
			var n sql.NullInt64
			err := db.QueryRowContext(ctx, q, args...).Scan(&n)
			return int(n.Int64), err
		}
	}
	atLeast := func(t *testing.T, what string, f func() (int, error), want int) {
		t.Helper()
		waitUntil(t, ctx, what, func() (bool, error) {
			n, err := f()
			return n >= want, err
		})
	}
	lastConsent := count(`SELECT max(id) FROM consents`)
	// consentsSince lists the consents stored after id as granted:source.
	consentsSince := func(t *testing.T, id int) string {
		t.Helper()
		rows, err := db.QueryContext(ctx,
			`SELECT granted || ':' || coalesce(source, '') FROM consents WHERE id > ? ORDER BY id`, id)
		if err != nil {
			t.Fatal(err)
		}
		_, all := sqlfile.All(t, rows)
		var got []string
		for _, row := range all {
			got = append(got, fmt.Sprint(row[0]))
		}
		return strings.Join(got, " ")
	}
	noConsent := count(`SELECT sum(count) FROM intake_outcomes WHERE outcome = 'dropped' AND reason = 'no_consent'`)

	browser := startChromium(t, ctx, chrome)
	open := func(t *testing.T, tab context.Context, name string) {
		t.Helper()
		err := chromedp.Do(tab, chromedp.Navigate(site.URL+"/cmp/"+name+"?utm_source=facebook&utm_campaign=spring_24"),
			chromedp.WaitVisible(chromedp.CSS("#ready")))
		if err != nil {
			t.Fatal(err)
		}
		pageLoaded(t, tab)
	}

	for _, p := range cmpPages {
		t.Run(p.name, func(t *testing.T) {
			if p.iab && npmSkip != "" {
				t.Skip(npmSkip)
			}
			from := len(rec.posts())
			defer func() {
				if t.Failed() {
					for _, r := range rec.posts()[from:] {
						t.Logf("posted %s %s, answered %s", r.URL, r.Body, bytes.TrimSpace(r.Answer))
					}
				}
			}()
			tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			defer cancelTab()
			open(t, tab, p.name)
			booked := fmt.Sprintf(`tally.track(%q)`, p.name+"_booked")
			accepted := count(`SELECT count(*) FROM events WHERE platform = 'meta' AND campaign = 'spring_24' AND conversion = ?`, p.name)
			mark, err := lastConsent()
			if err != nil {
				t.Fatal(err)
			}
			dropped, err := noConsent()
			if err != nil {
				t.Fatal(err)
			}

			// Before a choice: dropped, and no visitor id in the browser.
			if p.name == "cookiebot" {
				eval[bool](t, tab, `cmp.statisticsOnly(); true`)
			}
			if !eval[bool](t, tab, booked) {
				t.Fatal("the event before a choice was not sent")
			}
			atLeast(t, "the event before a choice dropped as no_consent", noConsent, dropped+1)
			if vid := eval[string](t, tab, `localStorage.getItem("tally_vid") || ""`); vid != "" {
				t.Fatalf("visitor id %q stored before the CMP granted", vid)
			}

			// The grant: the CMP calls back at once, so the id is stored
			// before cmp.grant() returns (which makes the GPC check below
			// meaningful), the grant is stored, and the next event accepted.
			// The CMP reports it twice: sent once.
			if vid := eval[string](t, tab, `cmp.grant(); cmp.grant(); localStorage.getItem("tally_vid") || ""`); vid == "" {
				t.Fatal("no visitor id stored when the CMP granted")
			}
			atLeast(t, "the CMP's grant stored", count(`SELECT count(*) FROM consents WHERE id > ?`, mark), 1)
			eval[bool](t, tab, booked)
			atLeast(t, "the event after the grant accepted", accepted, 1)

			// The withdrawal: stored, and the event after it dropped.
			eval[bool](t, tab, `cmp.withdraw(); true`)
			atLeast(t, "the CMP's withdrawal stored", count(`SELECT count(*) FROM consents WHERE id > ?`, mark), 2)
			eval[bool](t, tab, booked)
			atLeast(t, "the event after the withdrawal dropped as no_consent", noConsent, dropped+2)
			if n, err := accepted(); err != nil || n != 1 {
				t.Errorf("%d events accepted (err %v), want only the one between grant and withdrawal", n, err)
			}
			want := fmt.Sprintf("1:%s 0:%s", p.source, p.source)
			if got := consentsSince(t, mark); got != want {
				t.Errorf("consents stored (granted:source) %q, want %q", got, want)
			}
			consentPosts := 0
			for _, r := range rec.posts()[from:] {
				if r.URL == "/v1/consent" {
					consentPosts++
				}
			}
			if consentPosts != 2 {
				t.Errorf("%d consent requests, want 2 (the grant once, the withdrawal)", consentPosts)
			}
			if p.name == "onetrust" {
				if n := eval[int](t, tab, `siteWrapperCalls`); n != 4 {
					t.Errorf("the page's own OptanonWrapper ran %d times, want 4 (load, grant twice, withdrawal)", n)
				}
			}

			// Under GPC the CMP's grant sends nothing and stores no id. A
			// withdrawal, which GPC still sends, follows the grant through
			// tally.js's queue: once it is stored, anything sent before it
			// would be too.
			gpcTab, cancelGPC := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			defer cancelGPC()
			onNewDocument(t, gpcTab, forceGPC)
			open(t, gpcTab, p.name)
			mark, err = lastConsent()
			if err != nil {
				t.Fatal(err)
			}
			vid := eval[string](t, gpcTab, `cmp.grant(); localStorage.getItem("tally_vid") || ""`)
			if vid != "" {
				t.Errorf("under GPC the CMP's grant stored visitor id %q", vid)
			}
			eval[bool](t, gpcTab, `localStorage.setItem("tally_vid", crypto.randomUUID().replaceAll("-", ""));
				tally.consent({advertising: false})`)
			atLeast(t, "the withdrawal sent under GPC", count(`SELECT count(*) FROM consents WHERE id > ?`, mark), 1)
			if got := consentsSince(t, mark); got != "0:tally.js" {
				t.Errorf("under GPC the consents stored were %q, want only the page's withdrawal 0:tally.js", got)
			}
		})
	}

	// A plain page, data-consent as the query says; console warnings kept.
	plain := func(t *testing.T, tab context.Context, consent string) {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.Navigate(site.URL+"/plain?consent="+consent),
			chromedp.WaitVisible(chromedp.CSS("#ready"))); err != nil {
			t.Fatal(err)
		}
		pageLoaded(t, tab)
	}

	// Misconfigured: no CMP API on the page, or an unknown value. tally.js
	// says so on the console and follows nothing.
	t.Run("misconfigured", func(t *testing.T) {
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancelTab()
		for consent, want := range map[string]string{
			"tcf": "tally.js: data-consent: no __tcfapi",
			"gpp": "tally.js: data-consent: no __gpp",
			"tfc": "tally.js: data-consent: unknown tfc",
		} {
			plain(t, tab, consent)
			if got := eval[[]string](t, tab, `warnings`); len(got) != 1 || got[0] != want {
				t.Errorf("data-consent=%q: console warnings %q, want %q", consent, got, want)
			}
		}
	})

	// manual, the default: no warning, and the site's own call passes
	// health_data on as a purpose (consent.require_sensitive reads it).
	t.Run("manual", func(t *testing.T) {
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancelTab()
		plain(t, tab, "manual")
		if got := eval[[]string](t, tab, `warnings`); len(got) != 0 {
			t.Errorf("data-consent=manual: console warnings %q, want none", got)
		}
		from := len(rec.posts())
		if !eval[bool](t, tab, `tally.consent({advertising: true, health_data: true})`) {
			t.Fatal("tally.consent resolved false")
		}
		posts := rec.posts()[from:]
		if len(posts) != 1 || !bytes.Contains(posts[0].Body, []byte(`"purposes":{"advertising":true,"health_data":true}`)) {
			t.Errorf("posted %q, want one consent with advertising and health_data granted", posts)
		}
	})

	// A returning visitor: the CMP has loaded and holds the choice before
	// tally.js runs (its events are past), so tally.js reads it at once.
	// OneTrust's group is the default, C0004.
	t.Run("returning", func(t *testing.T) {
		for consent, pre := range map[string]string{
			"onetrust":  `window.OnetrustActiveGroups = ",C0001,C0004,";`,
			"cookiebot": `window.Cookiebot = {hasResponse: true, consent: {necessary: true, marketing: true}};`,
		} {
			tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			from := len(rec.posts())
			plain(t, tab, consent+"&pre="+url.QueryEscape(pre))
			waitUntil(t, ctx, consent+"'s stored choice posted", func() (bool, error) {
				return len(rec.posts()) > from, nil
			})
			if got := rec.posts()[from]; got.URL != "/v1/consent" ||
				!bytes.Contains(got.Body, []byte(`"purposes":{"advertising":true},"source":"cmp"`)) {
				t.Errorf("data-consent=%s, returning visitor: posted %s %s, want the grant", consent, got.URL, got.Body)
			}
			cancelTab()
		}
	})
}
