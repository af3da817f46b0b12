package intake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"
)

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server is the HTTP intake: /v1/events, /v1/consent, /healthz, /metrics.
type Server struct {
	Intake   *Intake
	Consents ConsentStore
	Store    Pinger
	Log      *slog.Logger
	// Extra, when set, serves other GET routes (for example the browser
	// snippet) under /v1/.
	Extra map[string]http.Handler
	// Limits, when set, bounds each client's requests to /v1/events and
	// /v1/consent (NewServer sets it from intake.rate_per_client).
	Limits  *ClientLimits
	origins map[string]bool
	maxBody int64
	maxBat  int
}

// NewServer builds the handler set from the intake's options.
func NewServer(in *Intake, consents ConsentStore, ping Pinger, log *slog.Logger) *Server {
	opt := in.Pipeline.opt
	origins := map[string]bool{}
	for _, o := range opt.AllowedOrigins {
		origins[o] = true
	}
	return &Server{Intake: in, Consents: consents, Store: ping, Log: log,
		Limits:  NewClientLimits(opt.RatePerClient, opt.BurstPerClient, 0),
		origins: origins, maxBody: opt.MaxBodyBytes, maxBat: opt.MaxBatch}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/events", s.route("events", s.cors(s.limited(s.handleEvents))))
	mux.Handle("/v1/consent", s.route("consent", s.cors(s.limited(s.handleConsent))))
	mux.Handle("/healthz", s.route("healthz", http.HandlerFunc(s.handleHealth)))
	if s.Intake.Metrics != nil {
		mux.Handle("/metrics", s.Intake.Metrics.Handler())
	}
	for path, h := range s.Extra {
		mux.Handle(path, s.route("extra", h))
	}
	mux.Handle("/", s.route("other", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})))
	return mux
}

// statusWriter remembers the status code for metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// route measures a handler. Nothing about the request but its fixed route
// name and status is recorded: no IP, no user agent, no query.
func (s *Server) route(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.Intake.Metrics.observeRequest(name, sw.code, time.Since(start))
		if sw.code >= 500 {
			s.Log.Warn("intake request failed", "route", name, "status", sw.code)
		}
	})
}

// cors answers preflights and sets CORS headers for allowed origins only.
// Other origins get no CORS headers (their browsers see an opaque failure),
// but a POST is still judged like any other request.
func (s *Server) cors(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && s.origins[origin]
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			if !allowed {
				writeError(w, http.StatusForbidden, "origin not allowed")
				return
			}
			w.Header().Set("Access-Control-Allow-Methods", "POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	})
}

// readBody enforces method, content type and size, answering the error
// itself when it returns ok=false.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return nil, false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "text/plain") {
		writeError(w, http.StatusUnsupportedMediaType, "content type must be application/json or text/plain")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body larger than intake.max_body_bytes")
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "could not read body")
		return nil, false
	}
	return body, true
}

func gpc(r *http.Request) bool { return r.Header.Get("Sec-GPC") == "1" }

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	raws, err := SplitBody(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(raws) > s.maxBat {
		writeError(w, http.StatusBadRequest, "more events than intake.max_batch")
		return
	}
	sum, err := s.Intake.Process(r.Context(), raws, gpc(r), false)
	if err != nil && r.Context().Err() != nil {
		// The client went away while its events were queued: they may
		// still commit (a resend is then a duplicate); nobody is listening
		// for an answer.
		return
	}
	if err != nil {
		s.unavailable(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	raws, err := SplitBody(body)
	if err != nil || len(raws) != 1 {
		writeError(w, http.StatusBadRequest, "malformed JSON: want one consent object")
		return
	}
	in, err := DecodeConsent(raws[0])
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	in.Time = s.Intake.Pipeline.ClientTime(in.Time)
	recs, err := s.Intake.Pipeline.ConsentRecords(in, gpc(r))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	for i := range recs {
		// The time is the page's clock: a withdrawal stamped before a
		// record already kept is moved to it (see store.Consent.ClientClock).
		recs[i].ClientClock = true
	}
	n := 0
	if len(recs) > 0 {
		err := s.Intake.Writer.Direct(func() error {
			var err error
			n, err = s.Consents.RecordConsents(r.Context(), recs, s.Intake.Pipeline.Now())
			return err
		})
		if err != nil {
			s.unavailable(w, err)
			return
		}
	}
	// recorded is 0 as well when the record repeats the visitor's latest
	// state: nothing new to keep.
	writeJSON(w, http.StatusOK, map[string]int{"recorded": n})
}

func (s *Server) unavailable(w http.ResponseWriter, err error) {
	s.Log.Error("intake: store unavailable", "err", err)
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, "store unavailable; nothing was stored, retry")
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	// The last commit failed, or the file was deleted or replaced: a ping
	// on the open file would still answer.
	if err := s.Intake.Writer.Health(); err != nil {
		writeError(w, http.StatusServiceUnavailable, "store unhealthy: "+healthReason(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// healthReason names the failure without the error's text (which may
// hold a path).
func healthReason(err error) string {
	if errors.Is(err, ErrFileChanged) {
		return "database file deleted or replaced; restart tally serve"
	}
	return "last commit failed"
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
