package report

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Path is where the intake server serves the report when [report] is
// enabled.
const Path = "/report"

// Handler serves the report at GET /report?from=&to=&group= to whoever
// holds the token: as a bearer token, or as the password of HTTP basic
// authentication (any user name), so a browser can open the page too.
// Without it the answer is 401 and says nothing about the data.
type Handler struct {
	DB *store.DB
	// Token is the shared secret; a Handler with an empty token refuses
	// every request.
	Token tally.Secret
	// Base holds the settings every request shares (Timezone, Spend,
	// Version); From, To and Group come from the query.
	Base Options
	Now  func() time.Time
	Log  *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="tally report", charset="UTF-8"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	opts, err := h.options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rep, err := Build(r.Context(), h.DB, opts)
	if tally.KindOf(err) == tally.KindUsage {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b bytes.Buffer
	if err == nil {
		err = rep.Write(&b)
	}
	if err != nil {
		h.Log.Warn("report failed", "err", err)
		http.Error(w, "report failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page needs nothing from anywhere: no script, no frame, no fetch.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	_, _ = w.Write(b.Bytes())
}

// authorized checks the bearer token or the basic-auth password in
// constant time (over hashes, so neither length leaks either).
func (h *Handler) authorized(r *http.Request) bool {
	if h.Token.Empty() {
		return false
	}
	given := ""
	if _, pass, ok := r.BasicAuth(); ok {
		given = pass
	} else if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		given = strings.TrimSpace(v)
	}
	if given == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(h.Token.Reveal()))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// options reads from, to and group from the query (each optional).
func (h *Handler) options(r *http.Request) (Options, error) {
	opts := h.Base
	opts.Now = h.Now()
	q := r.URL.Query()
	var err error
	if v := q.Get("from"); v != "" {
		if opts.From, err = tally.ParseFrom(v); err != nil {
			return opts, fmt.Errorf("from: %w", err)
		}
	}
	if v := q.Get("to"); v != "" {
		if opts.To, err = tally.ParseTo(v); err != nil {
			return opts, fmt.Errorf("to: %w", err)
		}
	}
	if v := q.Get("group"); v != "" {
		if opts.Group, err = tally.ParseGroup(v); err != nil {
			return opts, fmt.Errorf("group: %w", err)
		}
	}
	return opts, nil
}
