package snippet

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func get(t *testing.T, method string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, Path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesScript(t *testing.T) {
	rec := get(t, http.MethodGet)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if !bytes.Equal(rec.Body.Bytes(), source) {
		t.Errorf("body is not the embedded script (%d bytes, want %d)", rec.Body.Len(), len(source))
	}
	want := map[string]string{
		"Content-Type":                "text/javascript; charset=utf-8",
		"Cache-Control":               "public, max-age=300",
		"Access-Control-Allow-Origin": "*",
		"ETag":                        etag,
		"Content-Encoding":            "",
		"Set-Cookie":                  "",
		"Last-Modified":               "",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(etag) < 20 {
		t.Errorf("ETag %q too short to be a content hash", etag)
	}
}

func TestHandlerGzip(t *testing.T) {
	rec := get(t, http.MethodGet, "Accept-Encoding", "br, gzip;q=0.8")
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("ETag") != gzipETag {
		t.Fatalf("headers = %v, want gzip with its own ETag", rec.Header())
	}
	if gzipETag == etag {
		t.Fatal("gzip and identity share an ETag")
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, source) {
		t.Errorf("gunzipped body differs from the script (err %v)", err)
	}
}

func TestHandlerConditional(t *testing.T) {
	for _, tc := range []struct {
		name, inm, ae string
		want          int
	}{
		{"same tag", etag, "", http.StatusNotModified},
		{"gzip tag", gzipETag, "gzip", http.StatusNotModified},
		{"one of a list", `"old", ` + etag, "", http.StatusNotModified},
		{"stale tag", `"0123"`, "", http.StatusOK},
		{"identity tag asking gzip", etag, "gzip", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, http.MethodGet, "If-None-Match", tc.inm, "Accept-Encoding", tc.ae)
			if rec.Code != tc.want {
				t.Fatalf("status = %d, want %d", rec.Code, tc.want)
			}
			if tc.want == http.StatusNotModified && rec.Body.Len() != 0 {
				t.Errorf("304 with a %d-byte body", rec.Body.Len())
			}
		})
	}
}

func TestHandlerMethods(t *testing.T) {
	if rec := get(t, http.MethodHead); rec.Code != http.StatusOK || rec.Header().Get("ETag") != etag {
		t.Errorf("HEAD: %d %v", rec.Code, rec.Header())
	}
	if rec := get(t, http.MethodPost); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", rec.Code)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for in, want := range map[string]bool{
		"":                    false,
		"gzip":                true,
		"GZIP":                true,
		"gzip, deflate, br":   true,
		"deflate, gzip;q=1":   true,
		"gzip;q=0":            false,
		"gzip; q=0.000":       false,
		"br":                  false,
		"x-gzip":              false,
		"identity, gzip;q=.5": true,
	} {
		if got := acceptsGzip(in); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", in, got, want)
		}
	}
}
