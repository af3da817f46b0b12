package uploadertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Call is one request the fake platform received.
type Call struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Server is a fake platform endpoint that records every request and lets
// the test answer each one.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	calls []Call
}

// Respond answers call n (1-based).
type Respond func(n int, c Call, w http.ResponseWriter, r *http.Request)

// NewServer starts a fake platform; it is closed when the test ends.
func NewServer(tb testing.TB, respond Respond) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
		s.mu.Lock()
		s.calls = append(s.calls, c)
		n := len(s.calls)
		s.mu.Unlock()
		respond(n, c, w, r)
	}))
	tb.Cleanup(s.Close)
	return s
}

// Calls returns the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Canned writes status and the file testdata/name as a JSON answer, with
// header pairs ("Retry-After", "3").
func Canned(tb testing.TB, w http.ResponseWriter, status int, name string, header ...string) {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Errorf("canned response: %v", err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		w.Header().Set(header[i], header[i+1])
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// Hang holds the request until the client gives up (a timeout, without
// sleeping).
func Hang(r *http.Request) { <-r.Context().Done() }

// DeadURL returns an http URL on which nothing listens.
func DeadURL(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// Strict decodes a request body into T, refusing a field T does not name:
// the fake platform's check of a body's shape.
func Strict[T any](body []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&v)
	return v, err
}

// Values returns the strings at path in a JSON body, through every item of
// the arrays on the way: Values(b, "data", "event_id") is each event's
// event_id. A body that is not JSON has none.
func Values(body []byte, path ...string) []string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	return values(v, path)
}

func values(v any, path []string) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, item := range x {
			out = append(out, values(item, path)...)
		}
		return out
	case map[string]any:
		if len(path) > 0 {
			return values(x[path[0]], path[1:])
		}
	case string:
		if len(path) == 0 {
			return []string{x}
		}
	}
	return nil
}
