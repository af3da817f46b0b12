package scan

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// queued is a page waiting to be read, with its distance in links from
// the start URL.
type queued struct {
	u     *url.URL
	depth int
}

// errRobots is why a start URL robots.txt keeps out was not scanned.
var errRobots = errors.New("disallowed by robots.txt (use --ignore-robots on your own site)")

// crawl reads the pages of one site breadth-first from start: same host
// only, at most MaxPages page requests, links followed up to Depth hops,
// and never more links queued than requests are left. It fails only when
// not a single page could be read.
func (s *Scanner) crawl(ctx context.Context, start string) error {
	su, err := url.Parse(start)
	if err != nil || su.Host == "" {
		return fmt.Errorf("not a URL: %q", start)
	}
	su.Fragment = ""
	rb, err := s.robotsFor(ctx, su)
	if err != nil {
		return err
	}
	seen := map[string]bool{su.String(): true}
	queue := []queued{{u: su, depth: 0}}
	requests, read := 0, 0
	var firstErr error
	for len(queue) > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if requests >= s.opt.MaxPages {
			s.res.Unvisited += len(queue)
			break
		}
		q := queue[0]
		queue = queue[1:]
		if s.read[q.u.String()] {
			continue // reached earlier through a redirect
		}
		if !rb.allowed(requestPath(q.u)) {
			s.skip(q.u.String(), "disallowed by robots.txt")
			firstErr = firstOf(firstErr, errRobots)
			continue
		}
		requests++
		links, err := s.readPage(ctx, q.u, rb)
		if err != nil {
			s.skip(q.u.String(), err.Error())
			firstErr = firstOf(firstErr, err)
			continue
		}
		read++
		if q.depth >= s.opt.Depth {
			continue
		}
		for _, l := range links {
			k := l.String()
			if seen[k] {
				continue
			}
			seen[k] = true
			switch {
			case !rb.allowed(requestPath(l)):
				// Checked before queueing, so a disallowed link takes no
				// place a readable page could have.
				s.skip(k, "disallowed by robots.txt")
				firstErr = firstOf(firstErr, errRobots)
			case len(queue) >= s.opt.MaxPages-requests:
				// The queue holds no more links than requests are left:
				// a page with a million links costs a count, not memory.
				s.res.Unvisited++
			default:
				queue = append(queue, queued{u: l, depth: q.depth + 1})
			}
		}
		s.queuePeak = max(s.queuePeak, len(queue))
	}
	s.opt.Log.Debug("scan crawl done", "start", su.String(), "pages", read, "queue_peak", s.queuePeak)
	if read == 0 {
		if firstErr == nil {
			firstErr = errors.New("no page read")
		}
		return firstErr
	}
	return nil
}

// firstOf keeps the first error seen.
func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// readPage fetches one page, records its findings and returns the
// same-host pages it links to.
func (s *Scanner) readPage(ctx context.Context, u *url.URL, rb *robots) ([]*url.URL, error) {
	f, err := s.get(ctx, u)
	if err != nil {
		return nil, err
	}
	if !isHTML(f) {
		return nil, fmt.Errorf("not HTML (%s)", f.contentType)
	}
	pageURL := f.url.String()
	if s.read[pageURL] {
		return nil, nil // a same-host redirect to a page already read
	}
	s.read[pageURL] = true
	s.res.Pages = append(s.res.Pages, pageURL)
	if f.truncated {
		s.truncated(pageURL)
	}
	p := parsePage(f.body)
	base := f.url
	if p.base != "" {
		if b, err := f.url.Parse(p.base); err == nil {
			base = b
		}
	}
	rep := s.newReport(pageURL)
	rep.add(pageURL, Detect(p.code))
	for _, src := range p.scripts {
		su, ok := resolve(base, src)
		if !ok || !sameHost(su, f.url) {
			continue // other hosts' scripts are not fetched; their URL is in p.code
		}
		rep.add(su.String(), s.script(ctx, su, rb))
	}
	var links []*url.URL
	for _, l := range p.links {
		lu, ok := resolve(base, l)
		if ok && sameHost(lu, f.url) && !skipExt[strings.ToLower(path.Ext(lu.Path))] {
			links = append(links, lu)
		}
	}
	return links, nil
}

// script returns what a same-host script file holds, fetching it once.
func (s *Scanner) script(ctx context.Context, u *url.URL, rb *robots) []Match {
	key := u.String()
	if m, ok := s.scripts[key]; ok {
		return m
	}
	m := s.fetchScript(ctx, u, rb)
	s.scripts[key] = m
	return m
}

// fetchScript reads a script once; a skip is recorded in Result.Skipped.
func (s *Scanner) fetchScript(ctx context.Context, u *url.URL, rb *robots) []Match {
	key := u.String()
	if !rb.allowed(requestPath(u)) {
		s.skip(key, "disallowed by robots.txt")
		return nil
	}
	if s.res.Scripts >= s.opt.MaxScripts {
		s.skip(key, fmt.Sprintf("over the limit of %d scripts", s.opt.MaxScripts))
		return nil
	}
	f, err := s.get(ctx, u)
	if err != nil {
		s.skip(key, err.Error())
		return nil
	}
	s.res.Scripts++
	if f.truncated {
		s.truncated(key)
	}
	return Detect(string(f.body))
}

// robotsFor fetches the robots.txt of u's site, unless told to ignore it.
// 4xx means no rules; 5xx or an unreachable file means crawl nothing
// (RFC 9309 §2.3.1), which the caller reports rather than passing as clean.
func (s *Scanner) robotsFor(ctx context.Context, u *url.URL) (*robots, error) {
	if s.opt.IgnoreRobots {
		return nil, nil
	}
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	f, err := s.get(ctx, ru)
	var se *httpStatusError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &se) && se.code >= 400 && se.code < 500:
		return &robots{}, nil
	case err != nil:
		s.skip(ru.String(), err.Error())
		return &robots{denyAll: true}, nil
	}
	return parseRobots(f.body, AgentToken), nil
}

// resolve turns an href or src into an absolute http(s) URL without its
// fragment; ok is false for other schemes (mailto:, javascript:, data:).
func resolve(base *url.URL, ref string) (*url.URL, bool) {
	if ref == "" {
		return nil, false
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	u.Fragment, u.RawFragment = "", ""
	return u, true
}

// skipExt are link targets that are not pages; not requesting them keeps
// --max-pages for pages.
var skipExt = map[string]bool{
	".pdf": true, ".jpg": true, ".jpeg": true, ".png": true, ".gif": true,
	".svg": true, ".webp": true, ".ico": true, ".css": true, ".js": true,
	".zip": true, ".doc": true, ".docx": true, ".xls": true, ".xlsx": true,
	".ppt": true, ".pptx": true, ".mp3": true, ".mp4": true, ".mov": true,
	".webm": true, ".woff": true, ".woff2": true, ".ttf": true, ".xml": true,
	".json": true, ".txt": true, ".csv": true, ".ics": true, ".vcf": true,
}
