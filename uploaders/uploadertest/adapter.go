package uploadertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// The cell every conformance case delivers: one day, one campaign, the
// conversion "booking" (an adapter's configuration must map it), seen from
// the morning after, inside every platform's window.
const (
	Day        tally.Day = "2026-11-20"
	Campaign             = "cmp_42"
	Conversion           = "booking"
)

// Now is the suite's clock: Day's next morning.
var Now = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)

// Secret is the credential the suite hands to Adapter.New: the fake
// platform checks it arrives, and no stored byte may hold it.
const Secret = "uploadertest-SECRET-3f9a-never-stored"

// timeout bounds each request of the cases that leave one unanswered: long
// enough that an answered request never reaches it on a loaded machine.
const timeout = 500 * time.Millisecond

// EventID is the event id of conversion i of the suite's cell on platform.
func EventID(platform tally.Platform, i int) string {
	return batch.EventID(Key, platform, Day, Campaign, Conversion, i)
}

// NewFunc builds an uploader against endpoint with secret as its
// credential and timeout per request (0: the default).
type NewFunc func(endpoint string, secret tally.Secret, timeout time.Duration) batch.Uploader

// Adapter describes one platform's uploader to the conformance suite: how
// to build it, how the platform reads a request, and the platform's canned
// answers (files under the adapter package's testdata/) for each case.
type Adapter struct {
	New NewFunc
	// Credential returns the credential as the platform read it from c (a
	// query parameter, a header).
	Credential func(c Call) string
	// Check says what is wrong with c as a request to the platform
	// (path, query, headers, body shape); nil when nothing. The fake
	// platform checks every request of every case, and that it is a JSON
	// POST (every platform's is).
	Check func(c Call) error
	// Events returns the event ids a request body carries.
	Events func(body []byte) []string
	// Accept writes the platform's answer acknowledging every event of c
	// and returns their ids (none for an answer that acknowledges nothing,
	// such as GA4's validation).
	Accept func(tb testing.TB, w http.ResponseWriter, c Call) (acked []string)

	// Transient and RateLimit are answers after which the same request may
	// succeed; at least one of them carries a Retry-After header.
	Transient, RateLimit []Answer
	// Permanent answers stop the platform with no retry and no split;
	// Refused answers refuse the credential.
	Permanent, Refused []Answer
	// Reject lists the ways the platform refuses one event inside a
	// batch. A platform that cannot say so leaves it empty and says why in
	// NoReject.
	Reject   []Rejection
	NoReject string
}

// Answer is one canned answer of the platform.
type Answer struct {
	Status int
	File   string   // under testdata/
	Header []string // pairs: "Retry-After", "9"
	// Want is a part of the error the ledger stores for the request.
	Want string
	// Unknown: the platform may have processed the request before it
	// answered so (a 5xx). An at-most-once platform does not resend it.
	Unknown bool
	// New, when set, builds the uploader for this answer instead of
	// Adapter.New (GA4 names a bad credential only when validating).
	New NewFunc
}

// Rejection is one way the platform refuses a single event: by default,
// Answer to every request that carries it and Accept to the others.
type Rejection struct {
	Answer
	Name string
	// Respond, when set, answers instead: it writes the platform's answer
	// to c, refusing the event bad when c carries it, and returns the event
	// ids the answer acknowledges.
	Respond func(tb testing.TB, w http.ResponseWriter, c Call, bad string) (acked []string)
	// Alone: the platform refuses the event alone in an answer that takes
	// the rest (one request). Otherwise it refuses the whole request and
	// the engine bisects to the bad event.
	Alone bool
}

func (a Answer) name() string {
	if w := a.retryAfter(); w > 0 {
		return fmt.Sprintf("%d %s Retry-After %v", a.Status, a.File, w)
	}
	return fmt.Sprintf("%d %s", a.Status, a.File)
}

// retryAfter is the wait the answer asks for, 0 when it names none.
func (a Answer) retryAfter() time.Duration {
	for i := 0; i+1 < len(a.Header); i += 2 {
		if http.CanonicalHeaderKey(a.Header[i]) == "Retry-After" {
			n, _ := strconv.Atoi(a.Header[i+1])
			return time.Duration(n) * time.Second
		}
	}
	return 0
}

// Always answers every request with a.
func (a Answer) Always(tb testing.TB) Respond {
	return func(_ int, _ Call, w http.ResponseWriter, _ *http.Request) { a.write(tb, w) }
}

// write answers with a: its status, file and headers.
func (a Answer) write(tb testing.TB, w http.ResponseWriter) {
	Canned(tb, w, a.Status, a.File, a.Header...)
}

// Accepting answers every request with Accept.
func (a Adapter) Accepting(tb testing.TB) Respond {
	return func(_ int, c Call, w http.ResponseWriter, _ *http.Request) { a.Accept(tb, w, c) }
}

func (a Answer) build(ad Adapter) NewFunc {
	if a.New != nil {
		return a.New
	}
	return ad.New
}

// spec is the uploader's description of its platform.
func (a Adapter) spec() batch.Spec { return a.New("http://x", tally.Secret{}, 0).Spec() }

// Built returns the request the adapter builds for two conversions at Now:
// the suite's booking in Campaign (event id e1, external id x1) and a
// "call" without campaign (e2, x2), chunk "chunk-1". It checks the request
// is a JSON POST that holds no credential before Send.
func (a Adapter) Built(t *testing.T, endpoint string) *batch.Request {
	t.Helper()
	req, err := a.New(endpoint, tally.NewSecret(Secret), 0).Build(&batch.Batch{ChunkID: "chunk-1", Items: []batch.Conversion{
		{Day: Day, Campaign: Campaign, Conversion: Conversion, EventID: "e1", ExternalID: "x1", Time: Now},
		{Day: Day, Conversion: "call", Index: 1, EventID: "e2", ExternalID: "x2", Time: Now},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !jsonPost(req.Method, req.Header) {
		t.Errorf("request %s with headers %v, want a JSON POST", req.Method, req.Header)
	}
	if strings.Contains(fmt.Sprint(req.URL, req.Header, string(req.Body)), Secret) {
		t.Error("the request holds the credential before Send")
	}
	return req
}

// Builds checks that the adapter builds, for Built's two conversions, the
// JSON body want (compared as JSON values: every field, nothing more) and
// returns the request.
func Builds(t *testing.T, a Adapter, endpoint string, want string) *batch.Request {
	t.Helper()
	req := a.Built(t, endpoint)
	got, err := jsonValue(req.Body)
	if err != nil {
		t.Fatalf("body %s: %v", req.Body, err)
	}
	w, err := jsonValue([]byte(want))
	if err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("body %s\nwant %s", req.Body, want)
	}
	return req
}

// jsonValue decodes one JSON value, numbers exact.
func jsonValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// jsonPost says whether a request is a POST of JSON, as every platform's is.
func jsonPost(method string, h http.Header) bool {
	return method == http.MethodPost && h.Get("Content-Type") == "application/json"
}
