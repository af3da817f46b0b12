package scan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLocalFolder(t *testing.T) {
	root := filepath.Join("testdata", "site")
	res, err := New(Options{}).Scan(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, rel(root, f))
	}
	slash := filepath.FromSlash
	for _, want := range []string{
		slash("/index.html meta_pixel 123456789012345 /index.html"),
		slash("/index.html tiktok_pixel C4ABCDEFGHIJK12345 /js/site.js"),    // root-relative src
		slash("/about.html x_pixel o1a2b /js/vendor.min.js"),                // relative src with a query
		slash("/services.html tiktok_pixel C4ABCDEFGHIJK12345 /js/site.js"), // same script, second page
		slash("/noscript.html google_tag_manager GTM-NS12345 /noscript.html"),
		slash("/deep/3.html reddit_pixel a2_abcdef123456 /deep/3.html"), // no depth limit on disk
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, f := range res.Findings {
		if strings.HasSuffix(f.Page, "clean.html") || strings.Contains(f.Page, "deep"+string(filepath.Separator)+"1") {
			t.Errorf("clean page finding: %+v", f)
		}
	}
	if len(res.Pages) != 9 {
		t.Errorf("pages = %d (%v), want the 9 .html files", len(res.Pages), res.Pages)
	}
	if res.Scripts != 3 {
		t.Errorf("scripts = %d, want 3", res.Scripts)
	}
}

func TestLocalFile(t *testing.T) {
	res, err := New(Options{}).Scan(context.Background(), []string{filepath.Join("testdata", "site", "clean.html")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || len(res.Pages) != 1 || res.Scripts != 1 {
		t.Errorf("clean.html: findings %v pages %v scripts %d", res.Findings, res.Pages, res.Scripts)
	}
}

func TestLocalStaysInFolder(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside.js")
	os.WriteFile(outside, []byte(`fbq('init','1234567890')`), 0o644)
	site := filepath.Join(dir, "site")
	os.Mkdir(site, 0o755)
	os.WriteFile(filepath.Join(site, "a.html"), []byte(`<script src="../outside.js"></script><script src="/../outside.js"></script>`), 0o644)
	res, err := New(Options{}).Scan(context.Background(), []string{site})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || res.Scripts != 0 {
		t.Errorf("read a script outside the folder: %v", res.Findings)
	}
}

func TestLocalFailures(t *testing.T) {
	empty := t.TempDir()
	res, err := New(Options{}).Scan(context.Background(), []string{filepath.Join(empty, "missing.html"), empty})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 2 {
		t.Errorf("failed = %v, want both targets", res.Failed)
	}
}

func TestLocalRef(t *testing.T) {
	root := filepath.FromSlash("/srv/site")
	dir := filepath.FromSlash("/srv/site/blog")
	tests := []struct {
		src, want string
		ok        bool
	}{
		{"app.js", "/srv/site/blog/app.js", true},
		{"/js/app.js?v=2#x", "/srv/site/js/app.js", true},
		{"../js/a%20b.js", "/srv/site/js/a b.js", true},
		{"../../etc/passwd", "", false},
		{"https://cdn.example/x.js", "", false},
		{"//cdn.example/x.js", "", false},
		{"data:text/javascript,fbq(1)", "", false},
	}
	for _, tt := range tests {
		got, ok := localRef(root, dir, tt.src)
		if ok != tt.ok || (ok && got != filepath.FromSlash(tt.want)) {
			t.Errorf("localRef(%q) = %q, %v; want %q, %v", tt.src, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLocalTruncated(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "long.html")
	os.WriteFile(page, []byte("<p>"+strings.Repeat("x", 2000)+"</p><script>fbq('init','111111111111111')</script>"), 0o644)
	os.WriteFile(filepath.Join(dir, "short.html"), []byte("<p>ok</p>"), 0o644)
	res, err := New(Options{MaxBytes: 1000}).Scan(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || !slices.Equal(res.Truncated, []string{page}) {
		t.Errorf("findings %v truncated %v, want the long page truncated", res.Findings, res.Truncated)
	}
}
