package snippet

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Path is where the intake serves the script.
const Path = "/v1/tally.js"

//go:embed tally.js
var source []byte

// Source returns the script's bytes.
func Source() []byte { return append([]byte(nil), source...) }

// The two representations, built once: the script and its gzip encoding.
var (
	etag     = contentTag(source, "")
	gzipped  = mustGzip(source)
	gzipETag = contentTag(source, "-gz")
)

// contentTag is a strong validator from the script's content, so a new
// binary with a changed script is fetched again as soon as max-age runs out.
// Each encoding gets its own tag, as strong validators must.
func contentTag(b []byte, suffix string) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + suffix + `"`
}

func mustGzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		panic("snippet: gzip: " + err.Error())
	}
	if err := zw.Close(); err != nil {
		panic("snippet: gzip: " + err.Error())
	}
	return buf.Bytes()
}

// GzipSize is the number of bytes a browser downloads for the script.
func GzipSize() int { return len(gzipped) }

// Handler serves the script for GET and HEAD, gzipped when the client
// accepts it, and answers If-None-Match with 304. It sets no cookie and reads
// nothing from the request but its validators and Accept-Encoding.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		// Short enough that a fixed script reaches every site within minutes;
		// revalidation after that costs a 304.
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Vary", "Accept-Encoding")
		h.Set("X-Content-Type-Options", "nosniff")
		// Any site may load the script; what it posts is judged by the
		// intake. The CORS header lets a site load it with
		// crossorigin="anonymous", so the request carries none of its cookies.
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Set("Access-Control-Allow-Origin", "*")
		body, tag := source, etag
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, tag = gzipped, gzipETag
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("ETag", tag)
		// The zero time leaves Last-Modified out: the ETag is the validator.
		http.ServeContent(w, r, "tally.js", time.Time{}, bytes.NewReader(body))
	})
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (and
// does not refuse it with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
