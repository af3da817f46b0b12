package batch

import (
	"context"
	"net/http"
	"time"

	"github.com/tally-health/tally"
)

// Uploader turns synthetic conversions into one platform's requests and
// sends them. Adapters live in uploaders/<platform>; the delivery engine
// (Deliver) owns batching, bisection, retries, rate limits and the ledger.
type Uploader interface {
	// Spec describes the platform's limits.
	Spec() Spec
	// Build encodes one batch as the exact request the platform gets,
	// without credentials. It never needs a secret, so a dry run can call it
	// without one. An error means the conversions can never be sent as they
	// are (for example a GA4 event name over 40 characters).
	Build(b *Batch) (*Request, error)
	// Send attaches the credentials, sends the request and judges the answer.
	Send(ctx context.Context, r *Request) *Reply
}

// Spec is what the engine must know about a platform.
type Spec struct {
	// Platform is the platform name (PlatformMeta, ...).
	Platform tally.Platform
	// MaxBatch is the most conversions one request may carry.
	MaxBatch int
	// Window is how old an event time the platform still accepts.
	Window time.Duration
	// PerCell keeps every request within one cell (GA4: one synthetic
	// client_id per cell and chunk).
	PerCell bool
	// AtMostOnce marks a platform that does not deduplicate (GA4): a
	// request whose outcome is unknown (Reply.Unknown) is never resent
	// on its own; its conversions become uncertain until an operator asks
	// for a resend. Other platforms dedup by event id and retry as usual.
	AtMostOnce bool
}

// Conversion is one synthetic conversion: a coordinate and keyed ids,
// nothing about any person.
type Conversion struct {
	Day        tally.Day
	Campaign   string // "" when the cell has no campaign
	Conversion string // generic conversion name
	Index      int    // 0..n-1 within its cell
	Time       time.Time
	// EventID is the platform's dedup key, keyed and deterministic.
	EventID string
	// ExternalID is a keyed synthetic identifier that matches no person, for
	// schemas that demand one (Meta, TikTok, LinkedIn).
	ExternalID string
}

// Batch is the conversions of one request.
type Batch struct {
	Items []Conversion
	// ChunkID is a keyed synthetic id of the request's first conversion,
	// stable across retries and re-runs (GA4 client_id).
	ChunkID string
}

// Request is an encoded request. URL and Header hold no credential: they
// are stored in the ledger as they are.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Class is the engine's reading of an answer.
type Class int

// Answer classes.
const (
	// OK: the platform acknowledged the request.
	OK Class = iota
	// Retry: a transient failure (408, 429, 5xx, a network error, a
	// platform's transient code); the same request may succeed later.
	Retry
	// Reject: the platform refused the whole batch for its content; one bad
	// conversion may be to blame, so the engine bisects.
	Reject
	// Fatal: a permanent failure that no split or retry can fix (bad
	// token, missing permission, an unusable conversion rule).
	Fatal
)

func (c Class) String() string {
	switch c {
	case OK:
		return "ok"
	case Retry:
		return "retry"
	case Reject:
		return "reject"
	case Fatal:
		return "fatal"
	}
	return "unknown"
}

// Reply is the answer to a request, read by the adapter.
type Reply struct {
	Class Class
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Body is the response body verbatim.
	Body []byte
	// RetryAfter is the platform's Retry-After, 0 when absent.
	RetryAfter time.Duration
	// Message is the platform's error message or the network error, never
	// holding a credential. Empty on success.
	Message string
	// Rejected lists positions in the batch that an OK answer refused one
	// by one (LinkedIn reports a status per element).
	Rejected map[int]string
	// Unknown marks a Retry answer after which the platform may or may not
	// have processed the request: the whole body was written and then the
	// answer timed out or the connection broke, or the server answered
	// 5xx. A refused connection or a 429 is not unknown: nothing was
	// processed.
	Unknown bool
}
