package scan

import (
	"context"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// site is a local test web site: the files under testdata/site, with the
// placeholder host http://other.invalid pointing at a second server whose
// hits are counted so a test can prove it was never contacted.
type site struct {
	*httptest.Server
	other *hits
	hits  *hits
}

// hits counts requests by path.
type hits struct {
	mu sync.Mutex
	n  map[string]int
	ua []string
}

func (h *hits) add(r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == nil {
		h.n = map[string]int{}
	}
	h.n[r.URL.Path]++
	h.ua = append(h.ua, r.UserAgent())
}

func (h *hits) get(p string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[p]
}

// total counts every request.
func (h *hits) total() int { return h.count(func(string) bool { return true }) }

// pages counts requests for HTML pages (not robots.txt or scripts).
func (h *hits) pages() int {
	return h.count(func(p string) bool { return p == "/" || strings.HasSuffix(p, ".html") })
}

// count counts the requests for the paths keep keeps.
func (h *hits) count(keep func(path string) bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := 0
	for p, n := range h.n {
		if keep(p) {
			t += n
		}
	}
	return t
}

// newSite starts the test site; extra handlers override paths.
func newSite(t *testing.T, extra map[string]http.HandlerFunc) *site {
	t.Helper()
	s := &site{other: &hits{}, hits: &hits{}}
	otherSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.other.add(r)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<script>fbq('init','999999999999999')</script><a href="/more.html">more</a>`))
	}))
	t.Cleanup(otherSrv.Close)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.add(r)
		if h, ok := extra[r.URL.Path]; ok {
			h(w, r)
			return
		}
		if r.URL.Path == "/go-elsewhere" {
			http.Redirect(w, r, otherSrv.URL+"/landing.html", http.StatusFound)
			return
		}
		p := r.URL.Path
		if p == "/" {
			p = "/index.html"
		}
		b, err := os.ReadFile(filepath.Join("testdata", "site", filepath.FromSlash(path.Clean(p))))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		b = []byte(strings.ReplaceAll(string(b), "http://other.invalid", otherSrv.URL))
		w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(p)))
		w.Write(b)
	}))
	t.Cleanup(s.Server.Close)
	return s
}

// scanSite scans the site from its home page.
func scanSite(t *testing.T, s *site, opt Options) Result {
	t.Helper()
	res, err := New(opt).Scan(context.Background(), []string{s.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// rel renders a finding with the site's URL cut, for comparison.
func rel(base string, f Finding) string {
	cut := func(s string) string { return strings.TrimPrefix(s, base) }
	return cut(f.Page) + " " + f.Tracker + " " + f.ID + " " + cut(f.Source)
}
