package uploadertest

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// rejected: one event the platform refuses fails alone; every other event
// is acknowledged exactly once and the refused one never.
func rejected(t *testing.T, a Adapter, rj Rejection) {
	n := min(a.spec().MaxBatch, 1000)
	bad := EventID(a.spec().Platform, n*3/5)
	var mu sync.Mutex
	acked := map[string]int{}
	d := a.deliver(t, delivery{n: n, attempts: 3, build: rj.New, respond: func(_ int, c Call, w http.ResponseWriter, _ *http.Request) {
		var ids []string
		switch {
		case rj.Respond != nil:
			ids = rj.Respond(t, w, c, bad)
		case bytes.Contains(c.Body, []byte(bad)):
			rj.write(t, w)
		default:
			ids = a.Accept(t, w, c)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			acked[id]++
		}
	}})
	if s := d.Summary; s.Sent != n-1 || s.Failed != 1 || s.Err != nil || rj.Alone != (s.Requests == 1) {
		t.Fatalf("summary = %+v (refused alone: %v)", s, rj.Alone)
	}
	if len(acked) != n-1 || acked[bad] != 0 {
		t.Errorf("acknowledged %d distinct events (the refused one %d times), want %d", len(acked), acked[bad], n-1)
	}
	for id, k := range acked {
		if k != 1 {
			t.Errorf("%s acknowledged %d times", id, k)
		}
	}
	if u := d.Upload(t); u.State != tally.Partial || u.Acked != n-1 || u.Rejected != 1 || !strings.Contains(u.LastError, rj.Want) {
		t.Errorf("upload = %+v, want the error to hold %q", u, rj.Want)
	}
}

// stopped: a permanent answer stops the platform after one request, with
// no retry and no split; the platform's message is kept, the credential
// never.
func stopped(t *testing.T, a Adapter, ans Answer) {
	d := a.deliver(t, delivery{n: 20, attempts: 5, build: ans.New, respond: ans.Always(t)})
	s := d.Summary
	if s.Requests != 1 || len(d.Calls()) != 1 || s.Sent != 0 || s.Failed != 20 || s.Err == nil || len(d.Sleeps) != 0 {
		t.Fatalf("summary = %+v, %d calls, sleeps %v; want one request, then stop", s, len(d.Calls()), d.Sleeps)
	}
	u := d.Upload(t)
	if u.State != tally.Failed || u.Acked != 0 || u.Rejected != 0 || !strings.Contains(u.LastError, ans.Want) {
		t.Errorf("upload = %+v, want the error to hold %q", u, ans.Want)
	}
	if strings.Contains(u.LastError+s.Err.Error(), Secret) {
		t.Error("the error holds the credential")
	}
}

// timedOut: a request left unanswered past the timeout is retried; an
// at-most-once platform, which may have counted it, marks its conversions
// uncertain instead.
func timedOut(t *testing.T, a Adapter) {
	d := a.deliver(t, delivery{n: 20, attempts: 3, timeout: timeout,
		respond: func(n int, c Call, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				Hang(r)
				return
			}
			a.Accept(t, w, c)
		}})
	s := d.Summary
	if r := d.Requests(t)[0]; r.Status.Valid || !strings.Contains(r.Error.String, "timeout") || strings.Contains(r.Error.String, Secret) {
		t.Errorf("first ledger row = %+v, want no status and a timeout", r)
	}
	if a.spec().AtMostOnce {
		if s.Requests != 1 || len(d.Calls()) != 1 || s.Uncertain != 20 || len(d.Sleeps) != 0 {
			t.Errorf("summary = %+v, %d calls; want one request, uncertain", s, len(d.Calls()))
		}
		return
	}
	if s.Sent != 20 || s.Retries != 1 || s.Err != nil {
		t.Errorf("summary = %+v", s)
	}
}

// unreachable: nothing was sent, so every platform retries, then gives up;
// the network error names neither the URL nor the credential.
func unreachable(t *testing.T, a Adapter) {
	d := a.deliver(t, delivery{n: 20, attempts: 3})
	s, u := d.Summary, d.Upload(t)
	if s.Requests != 3 || s.Failed != 20 || s.Uncertain != 0 || len(d.Sleeps) != 2 {
		t.Fatalf("summary = %+v, sleeps %v", s, d.Sleeps)
	}
	if u.State != tally.Failed || u.Uncertain != 0 || !strings.Contains(u.LastError, "gave up after 3 attempts: network") ||
		strings.Contains(u.LastError, Secret) {
		t.Errorf("upload = %+v", u)
	}
}

// cancelled: a request sent on a cancelled context is retryable and says
// so, and a run on one sends nothing.
func cancelled(t *testing.T, a Adapter) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv := a.serve(t, &Delivered{answers: map[int][]byte{}}, a.Accepting(t))
	u := a.New(srv.URL, tally.NewSecret(Secret), 0)
	req, err := u.Build(&batch.Batch{ChunkID: "c", Items: []batch.Conversion{{Day: Day, Campaign: Campaign, Conversion: Conversion,
		EventID: "e", ExternalID: "x", Time: Now}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := u.Send(ctx, req); r.Class != batch.Retry || !strings.Contains(r.Message, "canceled") || strings.Contains(r.Message, Secret) {
		t.Errorf("reply = %+v", r)
	}
	d := a.deliver(t, delivery{n: 20, attempts: 3, ctx: ctx, respond: a.Accepting(t)})
	if s := d.Summary; s.Requests != 0 || len(d.Calls()) != 0 || len(srv.Calls()) != 0 || s.Err == nil {
		t.Errorf("summary = %+v, calls %d", s, len(d.Calls()))
	}
}
