// Package httpx is the HTTP plumbing the platform adapters share: a client
// that never follows redirects (credentials go only to the configured
// host), bounded body reads, Retry-After parsing, and network errors turned
// into messages that cannot hold a credential.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// DefaultTimeout bounds one request, answer included.
const DefaultTimeout = 30 * time.Second

// maxResponse bounds how much of an answer is read and kept.
const maxResponse = 1 << 20

// NewClient returns a client with a timeout that refuses redirects: a
// redirect could carry a credential to another host.
func NewClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// PostJSON encodes body as a JSON POST to url, with header's fields beside
// Content-Type; an encoding error names the platform. The request holds no
// credential: the Sender attaches it.
func PostJSON(platform, url string, body any, header http.Header) (*batch.Request, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", platform, err)
	}
	h := header.Clone() // a request never shares the adapter's header
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return &batch.Request{Method: http.MethodPost, URL: url, Header: h, Body: data}, nil
}

// Sender sends requests built by an adapter, attaching the credential in
// exactly one place.
type Sender struct {
	Client *http.Client
	// Secret is the credential; it is scrubbed from every error message.
	Secret tally.Secret
	// Authorize attaches Secret to the outgoing request (a header or a
	// query parameter). It is the only code that reveals it.
	Authorize func(r *http.Request, s tally.Secret)
}

// NewSender returns a Sender whose client is built once, with timeout (0:
// DefaultTimeout).
func NewSender(timeout time.Duration, secret tally.Secret, authorize func(*http.Request, tally.Secret)) *Sender {
	return &Sender{Client: NewClient(timeout), Secret: secret, Authorize: authorize}
}

// QueryParam attaches the secret as the query parameter name (Graph API's
// access_token, GA4's api_secret). The request the ledger stores was built
// before, so it never holds it.
func QueryParam(name string) func(*http.Request, tally.Secret) {
	return func(r *http.Request, s tally.Secret) {
		q := r.URL.Query()
		q.Set(name, s.Reveal())
		r.URL.RawQuery = q.Encode()
	}
}

// Header attaches the secret as the header name, after prefix ("Bearer ").
func Header(name, prefix string) func(*http.Request, tally.Secret) {
	return func(r *http.Request, s tally.Secret) { r.Header.Set(name, prefix+s.Reveal()) }
}

// Answer is a raw HTTP answer, or Err when none came.
type Answer struct {
	Status     int
	Header     http.Header
	Body       []byte
	RetryAfter time.Duration
	// Err describes a network failure, without credentials.
	Err string
	// Written reports that the whole request went out: even without an
	// answer the platform may have processed it. A refused connection
	// leaves it false.
	Written bool
}

// Do sends r and reads the answer.
func (s *Sender) Do(ctx context.Context, r *batch.Request) *Answer {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return &Answer{Err: s.scrub(fmt.Sprintf("build request: %v", err))}
	}
	for k, vs := range r.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if s.Authorize != nil {
		s.Authorize(req, s.Secret)
	}
	var written atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(w httptrace.WroteRequestInfo) { written.Store(w.Err == nil) },
	}))
	resp, err := s.Client.Do(req)
	if err != nil {
		return &Answer{Err: s.scrub(netError(err)), Written: written.Load()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	_, _ = io.Copy(io.Discard, resp.Body) // drain, so the connection is reused
	// A platform that echoed the credential must not get it into the ledger.
	body = s.scrubBytes(body)
	if err != nil {
		return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: body,
			Err: s.scrub("read response: " + netError(err)), Written: true}
	}
	return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: body,
		RetryAfter: RetryAfter(resp.Header.Get("Retry-After"), time.Now()), Written: true}
}

// Send sends r and judges the answer; without an answer the reply is
// retryable (Answer.Reply).
func (s *Sender) Send(ctx context.Context, r *batch.Request, judge func(*Answer) *batch.Reply) *batch.Reply {
	a := s.Do(ctx, r)
	if a.Err != "" {
		return a.Reply()
	}
	return judge(a)
}

// scrub removes the secret from a message, whatever put it there.
func (s *Sender) scrub(msg string) string {
	if v := s.Secret.Reveal(); v != "" {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
		msg = strings.ReplaceAll(msg, url.QueryEscape(v), "[redacted]")
	}
	return msg
}

func (s *Sender) scrubBytes(b []byte) []byte {
	if v := s.Secret.Reveal(); v != "" && bytes.Contains(b, []byte(v)) {
		return bytes.ReplaceAll(b, []byte(v), []byte("[redacted]"))
	}
	return b
}

// netError describes a transport failure without the request URL (which,
// for query-authenticated platforms, holds the credential).
func netError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout: " + err.Error()
	}
	if errors.Is(err, context.Canceled) {
		return "canceled: " + err.Error()
	}
	return "network: " + err.Error()
}

// RetryAfter parses a Retry-After value: seconds or an HTTP date. Zero
// when absent or unreadable.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Transient reports whether an HTTP status is worth retrying: 408, 429 and
// every 5xx.
func Transient(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// Reply turns a failed answer (no response) into a retryable batch.Reply,
// Unknown when the request had been written.
func (a *Answer) Reply() *batch.Reply {
	return &batch.Reply{Class: batch.Retry, Status: a.Status, Body: a.Body, Message: a.Err, Unknown: a.Written}
}

// Excerpt returns at most n characters of b as text, for messages. It
// counts characters, not bytes, so a cut never splits one.
func Excerpt(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}

// Count returns how many items the JSON array under key holds in body (the
// events of a request an adapter built); -1 when it cannot be read, which
// no platform's count matches.
func Count(body []byte, key string) int {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return -1
	}
	var items []json.RawMessage
	if raw, ok := obj[key]; ok && json.Unmarshal(raw, &items) != nil {
		return -1
	}
	return len(items)
}
