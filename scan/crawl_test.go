package scan

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCrawlSite(t *testing.T) {
	s := newSite(t, nil)
	res := scanSite(t, s, Options{})

	var got []string
	for _, f := range res.Findings {
		got = append(got, rel(s.URL, f))
	}
	want := []string{
		// inline base code and its <noscript> image; TikTok injected by a same-host script
		"/ meta_pixel 123456789012345 /",
		"/ tiktok_pixel C4ABCDEFGHIJK12345 /js/site.js",
		// <script src> to the vendor, inline config; the same-host script again
		"/services.html google_ads AW-123456789 /services.html",
		"/services.html google_analytics G-ABCDEF1234 /services.html",
		"/services.html hotjar 3456789 /services.html",
		"/services.html tiktok_pixel C4ABCDEFGHIJK12345 /js/site.js",
		// GTM inline; five trackers in one minified same-host file
		"/about.html google_tag_manager GTM-ABC1234 /about.html",
		"/about.html linkedin_insight 1234567 /js/vendor.min.js?v=3",
		"/about.html snap_pixel 3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b /js/vendor.min.js?v=3",
		"/about.html pinterest_tag 2612345678901 /js/vendor.min.js?v=3",
		"/about.html microsoft_uet 187000123 /js/vendor.min.js?v=3",
		"/about.html x_pixel o1a2b /js/vendor.min.js?v=3",
		// only <noscript> fallbacks
		"/noscript.html meta_pixel 987654321098765 /noscript.html",
		"/noscript.html google_tag_manager GTM-NS12345 /noscript.html",
		"/noscript.html linkedin_insight 7654321 /noscript.html",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}

	// Every page within depth 2 was read, the clean ones included; nothing
	// else (robots.txt keeps /private/ out, depth keeps /deep/3.html out).
	var pages []string
	for _, p := range res.Pages {
		pages = append(pages, strings.TrimPrefix(p, s.URL))
	}
	wantPages := []string{"/", "/services.html", "/about.html", "/clean.html", "/noscript.html", "/deep/1.html", "/deep/2.html"}
	if !slices.Equal(pages, wantPages) {
		t.Errorf("pages = %v, want %v", pages, wantPages)
	}
	if res.Scripts != 3 {
		t.Errorf("scripts read = %d, want 3 (site.js, vendor.min.js, clean.js)", res.Scripts)
	}
	if n := s.hits.get("/js/site.js"); n != 1 {
		t.Errorf("site.js fetched %d times, want once for two pages", n)
	}
	if n := s.hits.get("/services.html"); n != 1 {
		t.Errorf("services.html fetched %d times, want 1 (fragment links are the same page)", n)
	}
	if n := s.hits.get("/brochure.pdf"); n != 0 {
		t.Errorf("brochure.pdf fetched %d times, want 0", n)
	}
	if len(res.Failed) != 0 {
		t.Errorf("failed = %v", res.Failed)
	}

	// Links, scripts and redirects to another host are never followed.
	if n := s.other.total(); n != 0 {
		t.Errorf("other host got %d requests, want 0", n)
	}
	for _, ua := range s.hits.ua {
		if !strings.Contains(ua, "tally") {
			t.Errorf("User-Agent %q does not name tally", ua)
		}
	}

	for _, f := range res.Findings {
		if f.ID != "" && !strings.Contains(f.Evidence, f.ID) {
			t.Errorf("%s: evidence %q does not show id %s", f.Tracker, f.Evidence, f.ID)
		}
		if n := utf8.RuneCountInString(f.Evidence); n == 0 || n > maxEvidence {
			t.Errorf("%s: evidence is %d runes", f.Tracker, n)
		}
	}
}

func TestCrawlCleanPage(t *testing.T) {
	s := newSite(t, nil)
	res, err := New(Options{}).Scan(context.Background(), []string{s.URL + "/clean.html"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pages) != 1 || res.Scripts != 1 {
		t.Errorf("pages = %v scripts = %d, want the page and clean.js read", res.Pages, res.Scripts)
	}
	if len(res.Findings) != 0 {
		t.Errorf("clean page: findings %v", res.Findings)
	}
	if n := s.other.total(); n != 0 {
		t.Errorf("other host got %d requests", n)
	}
}

func TestCrawlMaxPages(t *testing.T) {
	for _, max := range []int{1, 3} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			s := newSite(t, nil)
			res := scanSite(t, s, Options{MaxPages: max})
			if n := s.hits.pages(); n != max {
				t.Errorf("page requests = %d, want %d", n, max)
			}
			if len(res.Pages) != max {
				t.Errorf("pages read = %d, want %d", len(res.Pages), max)
			}
			if res.Unvisited == 0 {
				t.Error("unvisited = 0, want the pages left out counted")
			}
		})
	}
}

func TestCrawlDepth(t *testing.T) {
	tests := []struct {
		depth   int
		fetched []string
		skipped []string
	}{
		{NoDepth, []string{"/"}, []string{"/services.html", "/deep/1.html"}},
		{1, []string{"/", "/deep/1.html"}, []string{"/deep/2.html"}},
		{2, []string{"/deep/2.html"}, []string{"/deep/3.html"}},
		{3, []string{"/deep/3.html"}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.depth), func(t *testing.T) {
			s := newSite(t, nil)
			res := scanSite(t, s, Options{Depth: tt.depth})
			for _, p := range tt.fetched {
				if s.hits.get(p) != 1 {
					t.Errorf("%s fetched %d times, want 1", p, s.hits.get(p))
				}
			}
			for _, p := range tt.skipped {
				if s.hits.get(p) != 0 {
					t.Errorf("%s fetched beyond depth %d", p, tt.depth)
				}
			}
			reddit := slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.Tracker == "reddit_pixel" })
			if reddit != (tt.depth == 3) {
				t.Errorf("reddit_pixel (on /deep/3.html) found = %v at depth %d", reddit, tt.depth)
			}
		})
	}
}

func TestCrawlByteCap(t *testing.T) {
	padding := strings.Repeat("<p>About our clinics.</p>\n", 100) // 2600 bytes
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><body>%s<script>fbq('init','111111111111111')</script></body></html>", padding)
	}
	script := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "/*%s*/ttq.load('C9ZZZZZZZZZZZZZZZZ');", padding)
	}
	extra := map[string]http.HandlerFunc{
		"/long.html": page,
		"/tail.html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<script src="/long.js"></script>`))
		},
		"/long.js": script,
	}
	for _, tt := range []struct {
		cap  int64
		want int
	}{{1000, 0}, {10000, 1}} {
		t.Run(fmt.Sprint(tt.cap), func(t *testing.T) {
			s := newSite(t, extra)
			res, err := New(Options{MaxBytes: tt.cap}).Scan(context.Background(), []string{s.URL + "/long.html", s.URL + "/tail.html"})
			if err != nil {
				t.Fatal(err)
			}
			var meta, tiktok int
			for _, f := range res.Findings {
				switch f.Tracker {
				case "meta_pixel":
					meta++
				case "tiktok_pixel":
					tiktok++
				}
			}
			if meta != tt.want || tiktok != tt.want {
				t.Errorf("cap %d: meta %d tiktok %d, want %d each", tt.cap, meta, tiktok, tt.want)
			}
			// A page or script cut at the cap is reported as truncated,
			// the page and the script it loads alike.
			var want []string
			if tt.want == 0 {
				want = []string{s.URL + "/long.html", s.URL + "/long.js"}
			}
			if !slices.Equal(res.Truncated, want) {
				t.Errorf("truncated = %v, want %v", res.Truncated, want)
			}
			if slices.ContainsFunc(res.Skipped, func(sk Skip) bool { return strings.Contains(sk.Reason, "bytes") }) {
				t.Errorf("skipped = %v: a truncated page was read, in part", res.Skipped)
			}
		})
	}
}

func TestCrawlRobots(t *testing.T) {
	s := newSite(t, nil)
	res := scanSite(t, s, Options{})
	if n := s.hits.get("/private/secret.html"); n != 0 {
		t.Errorf("disallowed page fetched %d times", n)
	}
	if !slices.ContainsFunc(res.Skipped, func(sk Skip) bool {
		return strings.HasSuffix(sk.URL, "/private/secret.html") && strings.Contains(sk.Reason, "robots.txt")
	}) {
		t.Errorf("skipped = %v, want /private/secret.html noted", res.Skipped)
	}

	s = newSite(t, nil)
	res = scanSite(t, s, Options{IgnoreRobots: true})
	if n := s.hits.get("/private/secret.html"); n != 1 {
		t.Errorf("--ignore-robots: page fetched %d times, want 1", n)
	}
	if n := s.hits.get("/robots.txt"); n != 0 {
		t.Errorf("--ignore-robots: robots.txt fetched %d times", n)
	}
	if !slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.ID == "555555555555555" }) {
		t.Error("--ignore-robots: pixel on /private/secret.html not found")
	}
}

func TestCrawlRobotsBlocksEverything(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"disallow all": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("User-agent: tally\nDisallow: /\n")) },
		"server error": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) },
	} {
		t.Run(name, func(t *testing.T) {
			s := newSite(t, map[string]http.HandlerFunc{"/robots.txt": h})
			res := scanSite(t, s, Options{})
			if s.hits.pages() != 0 {
				t.Errorf("pages fetched: %d, want 0", s.hits.pages())
			}
			if len(res.Failed) != 1 {
				t.Errorf("failed = %v, want the start URL, so an unscanned site is never reported clean", res.Failed)
			}
		})
	}
}

func TestCrawlUnreachable(t *testing.T) {
	s := newSite(t, nil)
	url := s.URL
	s.Close()
	res, err := New(Options{Timeout: 5 * time.Second}).Scan(context.Background(), []string{url + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || len(res.Pages) != 0 {
		t.Errorf("failed = %v pages = %v, want the target failed", res.Failed, res.Pages)
	}
}

func TestCrawlCancelled(t *testing.T) {
	s := newSite(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(Options{}).Scan(ctx, []string{s.URL + "/"}); err == nil {
		t.Error("cancelled scan: err = nil")
	}
}

func TestCrawlTimeout(t *testing.T) {
	release := make(chan struct{})
	s := newSite(t, map[string]http.HandlerFunc{
		"/slow.html": func(w http.ResponseWriter, r *http.Request) {
			select { // hold the response until the client gives up
			case <-r.Context().Done():
			case <-release:
			}
		},
	})
	defer close(release)
	res, err := New(Options{Timeout: 50 * time.Millisecond}).Scan(context.Background(), []string{s.URL + "/slow.html"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Reason, "deadline") && !strings.Contains(res.Failed[0].Reason, "Timeout") {
		t.Errorf("failed = %v, want a timeout", res.Failed)
	}
}

// A page with thousands of links queues no more of them than --max-pages
// can still read; the rest are counted as unvisited, each once.
func TestCrawlQueueBoundedByMaxPages(t *testing.T) {
	const links = 3000
	var many strings.Builder
	many.WriteString("<html><body>")
	for i := range links {
		fmt.Fprintf(&many, `<a href="/p/%d.html">%d</a><a href="/p/%d.html#again">again</a>`, i, i, i)
	}
	many.WriteString("</body></html>")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			w.Write([]byte("User-agent: *\nDisallow: /p/1.html\n"))
		case r.URL.Path == "/many.html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(many.String()))
		case strings.HasPrefix(r.URL.Path, "/p/"):
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<html><body><a href="/many.html">home</a></body></html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	for _, max := range []int{1, 5, 50} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			sc := New(Options{MaxPages: max})
			res, err := sc.Scan(context.Background(), []string{srv.URL + "/many.html"})
			if err != nil {
				t.Fatal(err)
			}
			if sc.queuePeak > max {
				t.Errorf("link queue grew to %d, want at most --max-pages %d", sc.queuePeak, max)
			}
			if len(res.Pages) != max {
				t.Errorf("pages read = %d, want %d", len(res.Pages), max)
			}
			// Every link but the pages read and the one robots.txt keeps out.
			if want := links - (max - 1) - 1; res.Unvisited != want {
				t.Errorf("unvisited = %d, want %d", res.Unvisited, want)
			}
		})
	}
}
