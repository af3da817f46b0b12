package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxRedirects bounds redirects followed on one fetch.
const maxRedirects = 5

// errOffHost stops a redirect that leaves the host being scanned.
var errOffHost = errors.New("redirect to another host")

// newClient builds the one HTTP client of a scan: a timeout per fetch and
// redirects followed only on the same host.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			if !sameHost(req.URL, via[0].URL) {
				return fmt.Errorf("%w %s", errOffHost, req.URL.Host)
			}
			return nil
		},
	}
}

// fetched is one response body, read up to the byte cap.
type fetched struct {
	body        []byte
	url         *url.URL // after same-host redirects
	contentType string
	truncated   bool // the body was longer than the cap; body holds the cap
}

// httpStatusError is a response outside 2xx.
type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.code, http.StatusText(e.code))
}

// get fetches u with the scan's User-Agent, a timeout and a byte cap.
func (s *Scanner) get(ctx context.Context, u *url.URL) (fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fetched{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", s.opt.UserAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is reported beside the error already
		}
		return fetched{}, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Drain a little so the connection can be reused; never the lot.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return fetched{}, &httpStatusError{code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opt.MaxBytes+1))
	if err != nil {
		return fetched{}, fmt.Errorf("read body: %w", err)
	}
	f := fetched{body: body, url: resp.Request.URL, contentType: resp.Header.Get("Content-Type")}
	if int64(len(body)) > s.opt.MaxBytes {
		f.body, f.truncated = body[:s.opt.MaxBytes], true
	}
	return f, nil
}

// isHTML reports whether a response is a web page. Without a Content-Type
// the body is sniffed.
func isHTML(f fetched) bool {
	ct := f.contentType
	if ct == "" {
		ct = http.DetectContentType(f.body)
	}
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "application/xhtml+xml")
}

// hostKey is a URL's host with the scheme's default port dropped, so
// http://h/ and https://h/ count as the same site but h:8080 does not.
func hostKey(u *url.URL) string {
	h := strings.ToLower(u.Hostname())
	p := u.Port()
	if p == "" || (p == "80" && u.Scheme == "http") || (p == "443" && u.Scheme == "https") {
		return h
	}
	return h + ":" + p
}

func sameHost(a, b *url.URL) bool { return hostKey(a) == hostKey(b) }

// requestPath is what robots.txt rules match: the path and query.
func requestPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}
