package google_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

var now = uploadertest.Now

// Build encodes a Measurement Protocol request: the chunk's synthetic
// client_id, the first event's time in microseconds, mapped event names,
// and the campaign, generic conversion and event id as params.
func TestBuild(t *testing.T) {
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	req, err := newGoogle("http://ga.test/", tally.NewSecret("sec-9f1"), 0).Build(&batch.Batch{ChunkID: "chunk-1", Items: []batch.Conversion{
		{Campaign: "spring_2026", Conversion: "booking", EventID: "e1", Time: at},
		{Conversion: "call", EventID: "e2", Time: at},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL != "http://ga.test/mp/collect?measurement_id=G-TEST1234" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	b, err := strict(req.Body)
	if err != nil || b.ClientID != "chunk-1" || b.TimestampMicros != at.UnixMicro() || len(b.Events) != 2 {
		t.Fatalf("body %s: %v", req.Body, err)
	}
	if e := b.Events[0]; e.Name != "appointment_request" || len(e.Params) != 3 || e.Params["campaign_id"] != "spring_2026" ||
		e.Params["conversion"] != "booking" || e.Params["tally_event_id"] != "e1" {
		t.Errorf("event = %+v", e)
	}
	if e := b.Events[1]; e.Name != "call" || len(e.Params) != 2 {
		t.Errorf("unmapped event without campaign = %+v", e)
	}
	if strings.Contains(string(req.Body)+req.URL, "sec-9f1") {
		t.Error("the request holds the api_secret before Send")
	}
}

// One synthetic client per chunk: two chunks never share a client_id.
func TestClientIDPerChunk(t *testing.T) {
	d := adapter().Deliver(t, 60, 3, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) { accept(t, w, c) })
	seen := map[string]bool{}
	for _, c := range d.Calls() {
		id := decode(c.Body).ClientID
		if seen[id] {
			t.Errorf("two chunks share client_id %s", id)
		}
		seen[id] = true
	}
	if len(seen) != 3 || d.Summary.Sent != 60 {
		t.Errorf("%d client ids, summary %+v", len(seen), d.Summary)
	}
}

// A name GA4 would silently drop never leaves: it is checked locally and
// the cell fails without a request.
func TestInvalidNameIsNeverSent(t *testing.T) {
	a := adapter()
	a.New = withEvents(map[string]string{"booking": strings.Repeat("x", 41)}, false)
	d := a.Deliver(t, 20, 3, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) { accept(t, w, c) })
	if len(d.Calls()) != 0 || d.Summary.Failed != 20 {
		t.Fatalf("sent %d requests with an invalid name: %+v", len(d.Calls()), d.Summary)
	}
	if u := d.Upload(t); u.State != tally.Failed || !strings.Contains(u.LastError, "over 40 characters") || u.Next != 0 {
		t.Errorf("upload = %+v", u)
	}
}

func TestLocalValidation(t *testing.T) {
	for name, ok := range map[string]bool{
		"booking": true, "appointment_request": true, "1booking": false, "book-ing": false,
		"google_booking": false, "session_start": false, strings.Repeat("a", 40): true, strings.Repeat("a", 41): false,
	} {
		g := withEvents(map[string]string{"booking": name}, false)("http://x", tally.Secret{}, 0)
		_, err := g.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "booking", Time: now}}})
		if (err == nil) != ok {
			t.Errorf("name %q: err = %v, want ok=%v", name, err, ok)
		}
	}
	items := make([]batch.Conversion, 26)
	if _, err := newGoogle("http://x", tally.Secret{}, 0).Build(&batch.Batch{Items: items}); err == nil {
		t.Error("26 events accepted")
	}
}
