package scan

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name, code string
		want       []string // "tracker id"
	}{
		{"meta fbevents.js only", `<script src="https://connect.facebook.net/en_US/fbevents.js">`, []string{"meta_pixel "}},
		{"meta fbq init", `fbq("init","1234567890123");fbq("track","Lead")`, []string{"meta_pixel 1234567890123"}},
		{"meta fbq call without init", `button.onclick=function(){fbq('track','Schedule')}`, []string{"meta_pixel "}},
		{"meta two pixels", `fbq('init', '111111111111'); fbq('init', '222222222222');`, []string{"meta_pixel 111111111111", "meta_pixel 222222222222"}},
		{"meta noscript image", `https://www.facebook.com/tr?id=1234567890123&ev=PageView`, []string{"meta_pixel 1234567890123"}},
		{"google ads gtag", `gtag('config', 'AW-987654321');`, []string{"google_ads AW-987654321"}},
		{"google ads send_to", `gtag('event','conversion',{'send_to':'AW-987654321/AbC-dEf'})`, []string{"google_ads AW-987654321"}},
		{"google ads legacy", `var google_conversion_id = 987654321; //www.googleadservices.com/pagead/conversion.js`, []string{"google_ads 987654321"}},
		{"ga4 loader", `https://www.googletagmanager.com/gtag/js?id=G-ABCDE12345`, []string{"google_analytics G-ABCDE12345"}},
		{"gtag both", `gtag('config','AW-123456789');gtag('config','G-ABCDE12345')`, []string{"google_ads AW-123456789", "google_analytics G-ABCDE12345"}},
		{"analytics.js", `ga('create', 'UA-12345678-1', 'auto'); //www.google-analytics.com/analytics.js`, []string{"google_analytics UA-12345678-1"}},
		{"ga.js", `var _gaq = _gaq || []; _gaq.push(['_setAccount', 'UA-1234567-2']); ('https:' == document.location.protocol ? 'https://ssl' : 'http://www') + '.google-analytics.com/ga.js'`, []string{"google_analytics UA-1234567-2"}},
		{"analytics.js without id", `s.src='//www.google-analytics.com/analytics.js'`, []string{"google_analytics "}},
		{"gtm snippet", `(window,document,'script','dataLayer','GTM-K9ABCD')`, []string{"google_tag_manager GTM-K9ABCD"}},
		{"gtm noscript", `https://www.googletagmanager.com/ns.html?id=GTM-K9ABCD`, []string{"google_tag_manager GTM-K9ABCD"}},
		{"gtm.js without id", `j.src='https://www.googletagmanager.com/gtm.js?id='+i`, []string{"google_tag_manager "}},
		{"tiktok", `ttq.load('CABCDEFGHIJ1234567'); ttq.page();`, []string{"tiktok_pixel CABCDEFGHIJ1234567"}},
		{"tiktok host", `https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=CABCDEFGHIJ1234567`, []string{"tiktok_pixel CABCDEFGHIJ1234567"}},
		{"tiktok methods", `var ttq=w[t]=w[t]||[];ttq.methods=["page","track"]`, []string{"tiktok_pixel "}},
		{"linkedin", `_linkedin_partner_id = "123456";`, []string{"linkedin_insight 123456"}},
		{"linkedin host", `b.src = "https://snap.licdn.com/li.lms-analytics/insight.min.js";`, []string{"linkedin_insight "}},
		{"linkedin px", `https://px.ads.linkedin.com/collect/?pid=123456&fmt=gif`, []string{"linkedin_insight 123456"}},
		{"snap", `snaptr('init', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', {})`, []string{"snap_pixel aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}},
		{"snap host", `https://sc-static.net/scevent.min.js`, []string{"snap_pixel "}},
		{"pinterest", `pintrk('load', '2612345678901', {em: '<user_email_address>'});`, []string{"pinterest_tag 2612345678901"}},
		{"pinterest noscript", `https://ct.pinterest.com/v3/?event=init&tid=2612345678901&noscript=1`, []string{"pinterest_tag 2612345678901"}},
		{"reddit", `rdt('init','t2_abc123', {optOut: false});`, []string{"reddit_pixel t2_abc123"}},
		{"reddit host", `t.src="https://www.redditstatic.com/ads/pixel.js"`, []string{"reddit_pixel "}},
		{"uet", `var o={ti:"5123456"};n.src="//bat.bing.com/bat.js"`, []string{"microsoft_uet 5123456"}},
		{"uet noscript", `//bat.bing.com/action/0?ti=5123456&Ver=2`, []string{"microsoft_uet 5123456"}},
		{"x pixel", `twq('config','o1a2b');`, []string{"x_pixel o1a2b"}},
		{"x pixel legacy", `twq('init','nz9yx');u.src='//static.ads-twitter.com/uwt.js'`, []string{"x_pixel nz9yx"}},
		{"hotjar", `h._hjSettings={hjid:1234567,hjsv:6};r.src=t+h._hjSettings.hjid`, []string{"hotjar 1234567"}},
		{"hotjar host", `https://static.hotjar.com/c/hotjar-1234567.js?sv=6`, []string{"hotjar 1234567"}},

		// Not trackers.
		{"empty", ``, nil},
		{"minified arithmetic", `var G=3,x=G-1000000,y=AW-123456789,z=UA-1234-1;`, nil},
		{"similar names", `myfbq(1); ttq_label(); notgtag('config'); _fbqueue.push(1); rdt(x);`, nil},
		{"ti without uet", `var o={ti:"5123456"};`, nil},
		{"hjid without hotjar", `var cfg={hjid:1234567};`, nil},
		{"facebook page link", `https://www.facebook.com/RiversideHealth`, nil},
		{"tiktok profile link", `https://www.tiktok.com/@riverside`, nil},
		{"id alone on a line", "x\nGTM-ABCDEF", []string{"google_tag_manager GTM-ABCDEF"}}, // an attribute value such as data-gtm
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range Detect(tt.code) {
				got = append(got, m.Tracker+" "+m.ID)
				if m.Evidence == "" {
					t.Errorf("%s: empty evidence", m.Tracker)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Detect(%q)\n got %q\nwant %q", tt.code, got, tt.want)
			}
		})
	}
}

func TestDetectEveryTrackerHasATest(t *testing.T) {
	// Every tracker in the table is found by at least one of the cases
	// above, so a rule cannot silently stop matching.
	covered := map[string]bool{}
	for _, code := range []string{
		`fbq('init','1234567')`, `gtag('config','AW-123456789')`, `'G-ABCDE12345'`, `'GTM-ABCD12'`,
		`ttq.load('CABCDEFGHIJ1234567')`, `_linkedin_partner_id="123"`, `snaptr('init','x')`, `pintrk('load','1234567')`,
		`rdt('init','t2_abc')`, `bat.bing.com/bat.js`, `twq('config','o1a2b')`, `static.hotjar.com`,
	} {
		for _, m := range Detect(code) {
			covered[m.Tracker] = true
		}
	}
	for _, name := range Trackers() {
		if !covered[name] {
			t.Errorf("tracker %s not detected by its sample", name)
		}
	}
	if len(Trackers()) < 12 {
		t.Errorf("%d trackers, want at least 12", len(Trackers()))
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("é", 500) + "fbq('init','1234567')" + strings.Repeat("\n\t x", 500)
	for _, m := range Detect(long) {
		if !utf8.ValidString(m.Evidence) || utf8.RuneCountInString(m.Evidence) > maxEvidence {
			t.Errorf("evidence %q: invalid or too long", m.Evidence)
		}
		if strings.ContainsAny(m.Evidence, "\n\t") {
			t.Errorf("evidence %q spans lines", m.Evidence)
		}
		if !strings.Contains(m.Evidence, "1234567") {
			t.Errorf("evidence %q lacks the id", m.Evidence)
		}
	}
}

// FuzzDetect checks, for any input, that detection neither panics nor
// invents: every id is text from the input, every tracker is known, and
// evidence is short, one line and valid UTF-8. The page parser runs on the
// same input.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		"", "fbq('init','123456789')", "<noscript><img src=\"https://www.facebook.com/tr?id=1234567\"></noscript>",
		"gtag('config','AW-123456789');gtag('config','G-ABCDE12345')", "x=G-1000000",
		"<script>ttq.load('CABCDEFGHIJ1234567')</script><noscript><noscript><iframe src=\"https://www.googletagmanager.com/ns.html?id=GTM-AB12\">",
		"var o={ti:\"5123456\"};//bat.bing.com/bat.js", "\xff\xfe_hjSettings={hjid:1234567}",
		"<a href=\"javascript:fbq('track','Lead')\">", "<div onclick=\"twq('config','o1a2b')\">",
	} {
		f.Add(s)
	}
	known := map[string]bool{}
	for _, n := range Trackers() {
		known[n] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(in string, ms []Match) {
			for _, m := range ms {
				if !known[m.Tracker] {
					t.Fatalf("unknown tracker %q", m.Tracker)
				}
				if !strings.Contains(in, m.ID) {
					t.Fatalf("id %q not in input", m.ID)
				}
				if !utf8.ValidString(m.Evidence) || utf8.RuneCountInString(m.Evidence) > maxEvidence || strings.ContainsAny(m.Evidence, "\n\r\t") {
					t.Fatalf("bad evidence %q", m.Evidence)
				}
			}
		}
		check(s, Detect(s))
		// The page parser unescapes entities, so ids are checked against
		// the code it extracted rather than the raw input.
		p := parsePage([]byte(s))
		check(p.code, Detect(p.code))
	})
}
