// Package scan finds client-side tracking pixels (Meta Pixel, gtag, TikTok,
// LinkedIn Insight and others) on an organisation's own web pages.
//
// It crawls a site politely (same host only, bounded pages, depth, bytes
// and time per fetch, robots.txt respected) or reads saved HTML from disk,
// follows the same-host JavaScript files each page loads, and reports every
// tracker with the page that loads it, the account id when visible and a
// short evidence snippet with the URL it came from. Detection is pattern
// matching over script code and the attributes of loading elements; it
// does not run JavaScript, so a tracker assembled at run time from pieces,
// or loaded by a tag manager container, shows up only as that container.
package scan

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Finding is one tracker loaded by one page.
type Finding struct {
	Page     string `json:"page"`     // the page that loads the tracker
	Tracker  string `json:"tracker"`  // e.g. "meta_pixel"; see Trackers
	ID       string `json:"id"`       // account or pixel id, "" when not visible
	Evidence string `json:"evidence"` // a short snippet around the match
	Source   string `json:"source"`   // the page or script the snippet is from
}

// Skip is something a scan meant to read and did not, with the reason.
type Skip struct {
	URL    string
	Reason string
}

// Result is what a scan saw.
type Result struct {
	Findings []Finding
	Pages    []string // pages read, in order
	Scripts  int      // same-host script files read
	// Skipped lists pages and scripts that were not read: errors, robots.txt,
	// not HTML.
	Skipped []Skip
	// Truncated lists pages and scripts cut at MaxBytes: read up to the
	// cap, so a tracker past it is not seen and the scan is incomplete.
	Truncated []string
	// Unvisited counts same-host pages found but left out by MaxPages.
	Unvisited int
	// Failed lists the targets from which not a single page was read; a
	// scan with a failed target proves nothing about that target.
	Failed []Skip
}

// Options bound a scan. The zero value of a field means its default.
type Options struct {
	MaxPages     int           // page requests per start URL (default 50)
	Depth        int           // link hops from a start URL (default 2; use NoDepth for 0)
	MaxScripts   int           // same-host scripts read per scan (default 200)
	MaxBytes     int64         // bytes read per page or script (default 2 MiB)
	Timeout      time.Duration // per fetch (default 15s)
	UserAgent    string        // default "tally-scan (+https://github.com/tally-health/tally)"
	IgnoreRobots bool
	Log          *slog.Logger // default: discard
}

// DefaultMaxBytes is how much of a page or script a scan reads when
// Options.MaxBytes is zero.
const DefaultMaxBytes = 2 << 20

// NoDepth asks for depth 0 (the start pages only), which the zero value
// of Options.Depth cannot say.
const NoDepth = -1

// AgentToken is the product token tally's robots.txt group is named by.
const AgentToken = "tally"

func (o Options) withDefaults() Options {
	if o.MaxPages <= 0 {
		o.MaxPages = 50
	}
	switch {
	case o.Depth == NoDepth:
		o.Depth = 0
	case o.Depth <= 0:
		o.Depth = 2
	}
	if o.MaxScripts <= 0 {
		o.MaxScripts = 200
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.UserAgent == "" {
		o.UserAgent = "tally-scan (+https://github.com/tally-health/tally)"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Scanner runs scans. It is not safe for concurrent use by several
// goroutines; build one per scan.
type Scanner struct {
	opt    Options
	client *http.Client
	// scripts caches what each script file holds, so a script loaded by
	// every page is fetched once and reported on every page.
	scripts map[string][]Match // nil when it could not be read
	read    map[string]bool    // pages read, by URL or path
	res     *Result
	// queuePeak is the most links a crawl held waiting at once; the debug
	// log reports it, and a test proves it never exceeds MaxPages.
	queuePeak int
}

// New returns a Scanner with its HTTP client built once.
func New(opt Options) *Scanner {
	opt = opt.withDefaults()
	return &Scanner{opt: opt, client: newClient(opt.Timeout)}
}

// IsURL reports whether target names a web page (http or https) rather
// than a local file or folder.
func IsURL(target string) bool {
	t := strings.ToLower(target)
	return strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://")
}

// CheckTargets checks, before anything is fetched, that every target is
// an http or https URL with a host, or a file or folder that exists.
func CheckTargets(targets []string) error {
	for _, t := range targets {
		if IsURL(t) {
			if u, err := url.Parse(t); err != nil || u.Host == "" {
				return fmt.Errorf("scan: %q: not a URL with a host", t)
			}
			continue
		}
		if strings.Contains(t, "://") {
			return fmt.Errorf("scan: %q: only http and https URLs can be scanned", t)
		}
		if _, err := os.Stat(t); err != nil {
			return fmt.Errorf("scan: %q: not a URL, and no such file or folder", t)
		}
	}
	return nil
}

// Scan reads every target (a URL to crawl, or a local HTML file or folder)
// and returns what it found. Only a cancelled context ends it early with an
// error; targets that could not be read are in Result.Failed.
func (s *Scanner) Scan(ctx context.Context, targets []string) (Result, error) {
	s.res = &Result{}
	s.scripts = map[string][]Match{}
	s.read = map[string]bool{}
	defer func() { s.res = nil }()
	for _, t := range targets {
		var err error
		if IsURL(t) {
			err = s.crawl(ctx, t)
		} else {
			err = s.local(ctx, t)
		}
		if ctx.Err() != nil {
			return *s.res, fmt.Errorf("scan: %w", ctx.Err())
		}
		if err != nil {
			s.res.Failed = append(s.res.Failed, Skip{URL: t, Reason: err.Error()})
		}
	}
	return *s.res, nil
}

// truncated records a page or script cut at the byte cap.
func (s *Scanner) truncated(u string) {
	s.opt.Log.Debug("scan truncated", "url", u, "max_bytes", s.opt.MaxBytes)
	s.res.Truncated = append(s.res.Truncated, u)
}

func (s *Scanner) skip(u, reason string) {
	s.opt.Log.Debug("scan skipped", "url", u, "reason", reason)
	s.res.Skipped = append(s.res.Skipped, Skip{URL: u, Reason: reason})
}

// report adds the findings of one page: what its own code shows, then what
// each script it loads shows, without repeating a (tracker, id, source).
type pageReport struct {
	page string
	seen map[Finding]bool
	out  *[]Finding
}

func (r *pageReport) add(source string, ms []Match) {
	for _, m := range ms {
		f := Finding{Page: r.page, Tracker: m.Tracker, ID: m.ID, Source: source}
		key := f
		if r.seen[key] {
			continue
		}
		r.seen[key] = true
		f.Evidence = m.Evidence
		*r.out = append(*r.out, f)
	}
}

func (s *Scanner) newReport(page string) *pageReport {
	return &pageReport{page: page, seen: map[Finding]bool{}, out: &s.res.Findings}
}
