package uploadertest

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// Delivered is what one delivery of the suite's cell left behind.
type Delivered struct {
	Summary batch.Summary
	DB      *store.DB
	Sleeps  []time.Duration
	// Server is the fake platform; nil when nothing listened.
	Server   *Server
	platform tally.Platform
	run      *batch.Delivery
	target   batch.Target
	sleeps   *Sleeps

	mu      sync.Mutex
	answers map[int][]byte // the body each call was answered with
}

// Deliver seeds the suite's cell with n conversions and delivers it, in up
// to attempts tries per request, to a fake platform that checks every
// request (Adapter.Check, the credential) and answers with respond. It is
// the harness for an adapter's own end-to-end tests.
func (a Adapter) Deliver(t *testing.T, n, attempts int, respond Respond) *Delivered {
	t.Helper()
	return a.deliver(t, delivery{n: n, attempts: attempts, respond: respond})
}

// delivery is one run of the suite.
type delivery struct {
	n, attempts int
	timeout     time.Duration
	build       NewFunc         // nil: Adapter.New
	respond     Respond         // nil: the endpoint refuses connections
	ctx         context.Context // nil: Background
}

func (a Adapter) deliver(t *testing.T, dl delivery) *Delivered {
	t.Helper()
	db := storetest.Open(t)
	d := &Delivered{DB: db, answers: map[int][]byte{}}
	endpoint := DeadURL(t)
	if dl.respond != nil {
		d.Server = a.serve(t, d, dl.respond)
		endpoint = d.Server.URL
	}
	build, ctx := a.New, dl.ctx
	if dl.build != nil {
		build = dl.build
	}
	if ctx == nil {
		ctx = context.Background()
	}
	u := build(endpoint, tally.NewSecret(Secret), dl.timeout)
	d.platform = u.Spec().Platform
	Seed(t, db, Released{Day: Day, Platform: d.platform, Campaign: Campaign, Conversion: Conversion, N: dl.n})
	d.run, d.sleeps = Delivery(db, Now)
	d.target = Target(u, dl.attempts)
	d.Summary = d.run.Run(ctx, []batch.Target{d.target})[0]
	d.Sleeps = d.sleeps.All()
	return d
}

// Again runs the delivery once more on the same database and fake
// platform, resending uncertain conversions when resend is set (tally
// upload --resend-uncertain), and returns its summary.
func (d *Delivered) Again(resend bool) batch.Summary {
	d.run.ResendUncertain = resend
	d.Summary = d.run.Run(context.Background(), []batch.Target{d.target})[0]
	d.Sleeps = d.sleeps.All()
	return d.Summary
}

// serve starts the fake platform: every request is checked, then answered
// by respond, and the answer's body is kept.
func (a Adapter) serve(t *testing.T, d *Delivered, respond Respond) *Server {
	return NewServer(t, func(n int, c Call, w http.ResponseWriter, r *http.Request) {
		if !jsonPost(c.Method, c.Header) {
			t.Errorf("request %d: %s with content type %q, want a JSON POST", n, c.Method, c.Header.Get("Content-Type"))
		}
		if err := a.Check(c); err != nil {
			t.Errorf("request %d: %v", n, err)
		}
		if a.Credential(c) != Secret {
			t.Errorf("request %d: the credential did not arrive where the platform reads it", n)
		}
		rec := &recorder{ResponseWriter: w}
		respond(n, c, rec, r)
		d.mu.Lock()
		d.answers[n] = rec.body.Bytes()
		d.mu.Unlock()
	})
}

// Calls returns the requests the fake platform received.
func (d *Delivered) Calls() []Call {
	if d.Server == nil {
		return nil
	}
	return d.Server.Calls()
}

// Upload returns the cell's uploads row.
func (d *Delivered) Upload(tb testing.TB) store.Upload {
	tb.Helper()
	ups := Uploads(tb, d.DB, d.platform)
	if len(ups) != 1 {
		tb.Fatalf("%d uploads rows, want 1", len(ups))
	}
	return ups[0]
}

// Requests returns the ledger's requests, oldest first.
func (d *Delivered) Requests(tb testing.TB) []store.UploadRequestRow {
	tb.Helper()
	reqs, err := d.DB.UploadRequests(context.Background(), string(d.platform))
	if err != nil {
		tb.Fatal(err)
	}
	return reqs
}

// answer returns the body call n (1-based) was answered with.
func (d *Delivered) answer(n int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.answers[n]
}

// recorder keeps the body written through it.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Hijack lets a test drop the connection.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}
