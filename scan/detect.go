package scan

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Match is one tracker seen in one piece of content: which tracker, the
// account or pixel id when the content shows it, and a short snippet.
type Match struct {
	Tracker  string
	ID       string
	Evidence string
}

// rule recognises one tracker. Any signal or id pattern is enough to report
// the tracker; an id pattern marked weak is only trusted once a signal has
// matched in the same content (UET's `ti:"123"` means nothing on its own).
type rule struct {
	tracker string
	signals []*regexp.Regexp
	ids     []idPattern
}

type idPattern struct {
	re   *regexp.Regexp // the first submatch is the id
	weak bool
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func id(s string) idPattern     { return idPattern{re: re(s)} }
func weakID(s string) idPattern { return idPattern{re: re(s), weak: true} }

// q is what may stand right before a Google tag id: the start of a line
// (an attribute value), a quote, or `id=` or `tid=` in a query string.
// Requiring it keeps minified arithmetic like `x=G-1000000` out.
const q = `(?:(?m:^)|['"]|[?&]t?id=)`

// rules is the detector table, in the order findings are reported.
var rules = []rule{
	{
		tracker: "meta_pixel",
		signals: []*regexp.Regexp{re(`connect\.facebook\.net/[\w-]+/fbevents\.js`), re(`\bfbq\s*\(`), re(`facebook\.com/tr/?\?`)},
		ids: []idPattern{
			id(`\bfbq\s*\(\s*['"]init['"]\s*,\s*['"]?(\d{6,20})`),
			id(`facebook\.com/tr/?\?[^'"\s<>]*?\bid=(\d{6,20})`),
			id(`connect\.facebook\.net/signals/config/(\d{6,20})`),
		},
	},
	{
		tracker: "google_ads",
		signals: []*regexp.Regexp{re(`googleadservices\.com/pagead/conversion`), re(`googleads\.g\.doubleclick\.net/pagead`)},
		ids:     []idPattern{id(q + `(AW-\d{6,12})\b`), weakID(`google_conversion_id\s*[=:]\s*['"]?(\d{6,12})`)},
	},
	{
		tracker: "google_analytics",
		signals: []*regexp.Regexp{re(`google-analytics\.com/(?:analytics|ga|urchin)\.js`), re(`google-analytics\.com/(?:g/)?collect`), re(`\bga\s*\(\s*['"]create['"]`), re(`\b_gaq\.push\s*\(`)},
		ids:     []idPattern{id(q + `(G-[A-Z0-9]{6,12})\b`), id(q + `(UA-\d{4,10}-\d{1,4})\b`)},
	},
	{
		tracker: "google_tag_manager",
		signals: []*regexp.Regexp{re(`googletagmanager\.com/gtm\.js`), re(`googletagmanager\.com/ns\.html`)},
		ids:     []idPattern{id(q + `(GTM-[A-Z0-9]{4,10})\b`)},
	},
	{
		tracker: "tiktok_pixel",
		signals: []*regexp.Regexp{re(`analytics\.tiktok\.com`), re(`\bttq\.(?:load|page|track|identify|instance|methods)\b`)},
		ids: []idPattern{
			id(`\bttq\.load\s*\(\s*['"]([A-Z0-9]{8,30})['"]`),
			id(`analytics\.tiktok\.com/i18n/pixel/events\.js\?[^'"\s<>]*?\bsdkid=([A-Z0-9]{8,30})`),
		},
	},
	{
		tracker: "linkedin_insight",
		signals: []*regexp.Regexp{re(`snap\.licdn\.com/li\.lms-analytics`), re(`px\.ads\.linkedin\.com`), re(`\b_linkedin_partner_id\b`), re(`\b_linkedin_data_partner_ids\b`)},
		ids: []idPattern{
			id(`\b_linkedin_partner_id\s*=\s*['"]?(\d{3,12})`),
			id(`\b_linkedin_data_partner_ids\.push\s*\(\s*['"]?(\d{3,12})`),
			id(`px\.ads\.linkedin\.com/collect/?\?[^'"\s<>]*?\bpid=(\d{3,12})`),
		},
	},
	{
		tracker: "snap_pixel",
		signals: []*regexp.Regexp{re(`sc-static\.net/scevent\.min\.js`), re(`tr\.snapchat\.com`), re(`\bsnaptr\s*\(`)},
		ids:     []idPattern{id(`\bsnaptr\s*\(\s*['"]init['"]\s*,\s*['"]([0-9a-fA-F-]{36})['"]`)},
	},
	{
		tracker: "pinterest_tag",
		signals: []*regexp.Regexp{re(`s\.pinimg\.com/ct/core\.js`), re(`ct\.pinterest\.com/v3`), re(`\bpintrk\s*\(`)},
		ids: []idPattern{
			id(`\bpintrk\s*\(\s*['"]load['"]\s*,\s*['"]?(\d{6,20})`),
			id(`ct\.pinterest\.com/v3/?\?[^'"\s<>]*?\btid=(\d{6,20})`),
		},
	},
	{
		tracker: "reddit_pixel",
		signals: []*regexp.Regexp{re(`redditstatic\.com/ads/pixel\.js`), re(`alb\.reddit\.com/rp\.gif`), re(`\brdt\s*\(\s*['"](?:init|track)['"]`)},
		ids: []idPattern{
			id(`\brdt\s*\(\s*['"]init['"]\s*,\s*['"]([A-Za-z0-9_-]{4,40})['"]`),
			id(`alb\.reddit\.com/rp\.gif\?[^'"\s<>]*?\bid=([A-Za-z0-9_-]{4,40})`),
		},
	},
	{
		tracker: "microsoft_uet",
		signals: []*regexp.Regexp{re(`bat\.bing\.com/(?:bat\.js|action)`), re(`\buetq\b`)},
		ids: []idPattern{
			id(`bat\.bing\.com/action/0\?[^'"\s<>]*?\bti=(\d{4,12})`),
			weakID(`\bti\s*:\s*['"]?(\d{4,12})\b`),
		},
	},
	{
		tracker: "x_pixel",
		signals: []*regexp.Regexp{re(`static\.ads-twitter\.com/uwt\.js`), re(`analytics\.twitter\.com/i/adsct`), re(`\bt\.co/i/adsct`), re(`\btwq\s*\(`)},
		ids: []idPattern{
			id(`\btwq\s*\(\s*['"](?:init|config)['"]\s*,\s*['"]([a-z0-9]{4,10})['"]`),
			id(`(?:analytics\.twitter\.com|t\.co)/i/adsct\?[^'"\s<>]*?\btxn_id=([a-z0-9]{4,10})`),
		},
	},
	{
		tracker: "hotjar",
		signals: []*regexp.Regexp{re(`static\.hotjar\.com`), re(`script\.hotjar\.com`), re(`\b_hjSettings\b`)},
		ids: []idPattern{
			id(`static\.hotjar\.com/c/hotjar-(\d{5,10})\.js`),
			weakID(`\bhjid\s*:\s*['"]?(\d{5,10})\b`),
		},
	},
}

// Trackers lists every tracker name Detect can report.
func Trackers() []string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.tracker
	}
	return names
}

// Detect reports the trackers that content (script code, or the tracker
// relevant parts of a page) loads or calls. A tracker whose ids are visible
// yields one match per distinct id; otherwise one match without an id.
// Matches are ordered by the rule table, then by id.
func Detect(content string) []Match {
	var out []Match
	for _, r := range rules {
		out = append(out, r.detect(content)...)
	}
	return out
}

func (r rule) detect(content string) []Match {
	signal := firstMatch(r.signals, content)
	byID := map[string]string{} // id → evidence
	for _, p := range r.ids {
		if p.weak && signal == nil {
			continue
		}
		for _, m := range p.re.FindAllStringSubmatchIndex(content, -1) {
			v := content[m[2]:m[3]]
			if _, seen := byID[v]; !seen {
				byID[v] = snippet(content, m[0], m[1])
			}
		}
	}
	if len(byID) > 0 {
		ids := make([]string, 0, len(byID))
		for v := range byID {
			ids = append(ids, v)
		}
		sort.Strings(ids)
		out := make([]Match, len(ids))
		for i, v := range ids {
			out[i] = Match{Tracker: r.tracker, ID: v, Evidence: byID[v]}
		}
		return out
	}
	if signal == nil {
		return nil
	}
	return []Match{{Tracker: r.tracker, Evidence: snippet(content, signal[0], signal[1])}}
}

func firstMatch(res []*regexp.Regexp, s string) []int {
	var best []int
	for _, re := range res {
		if m := re.FindStringIndex(s); m != nil && (best == nil || m[0] < best[0]) {
			best = m
		}
	}
	return best
}

// Evidence snippets are the match plus a little context, at most
// maxEvidence runes, on one line.
const (
	evidenceContext = 24
	maxEvidence     = 160
)

// segmentSep separates the pieces of a page's code (one inline script,
// one attribute value) so that evidence never runs from one into the next.
const segmentSep = "\n\x1e\n"

// snippet returns s[start:end] widened by a little context on each side
// (never past a segment boundary), with whitespace collapsed, cut to
// maxEvidence runes and valid UTF-8; "…" marks where it was cut.
func snippet(s string, start, end int) string {
	from := max(0, start-evidenceContext)
	to := min(len(s), end+evidenceContext)
	if i := strings.LastIndexByte(s[from:start], '\x1e'); i >= 0 {
		from += i + 1
	}
	if i := strings.IndexByte(s[end:to], '\x1e'); i >= 0 {
		to = end + i
	}
	// Do not cut a multi-byte character in half.
	for from > 0 && !utf8.RuneStart(s[from]) {
		from--
	}
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	out := strings.Join(strings.Fields(strings.ToValidUTF8(s[from:to], "")), " ")
	if from > 0 && s[from-1] != '\x1e' && !isSpace(s[from-1]) && !isSpace(s[from]) {
		out = "…" + out
	}
	if to < len(s) && s[to] != '\x1e' && !isSpace(s[to]) && !isSpace(s[to-1]) {
		out += "…"
	}
	if utf8.RuneCountInString(out) > maxEvidence {
		out = string([]rune(out)[:maxEvidence-1]) + "…"
	}
	return out
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\f' }
