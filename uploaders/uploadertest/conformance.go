package uploadertest

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// Conformance runs the adapter through the cases every platform must pass,
// against a fake platform that answers with the adapter's canned answers:
// success; transient errors and rate limits, Retry-After honoured; a
// rejected event inside a batch; permanent errors; a refused credential;
// timeouts and network failures; and no secret in any stored byte.
func Conformance(t *testing.T, a Adapter) {
	a.described(t)
	t.Run("success", func(t *testing.T) { success(t, a) })
	for _, ans := range a.Transient {
		t.Run("transient/"+ans.name(), func(t *testing.T) { retried(t, a, ans) })
	}
	for _, ans := range a.RateLimit {
		t.Run("rate limit/"+ans.name(), func(t *testing.T) { retried(t, a, ans) })
	}
	for _, rj := range a.Reject {
		t.Run("rejected event/"+rj.Name, func(t *testing.T) { rejected(t, a, rj) })
	}
	if len(a.Reject) == 0 {
		t.Run("rejected event", func(t *testing.T) { t.Skip(a.NoReject) })
	}
	for _, ans := range a.Permanent {
		t.Run("permanent/"+ans.name(), func(t *testing.T) { stopped(t, a, ans) })
	}
	for _, ans := range a.Refused {
		t.Run("credential refused/"+ans.name(), func(t *testing.T) { stopped(t, a, ans) })
	}
	t.Run("timeout", func(t *testing.T) { timedOut(t, a) })
	t.Run("unreachable", func(t *testing.T) { unreachable(t, a) })
	t.Run("cancelled", func(t *testing.T) { cancelled(t, a) })
	t.Run("no secret stored", func(t *testing.T) { noSecretStored(t, a) })
}

// described fails an adapter description that leaves a case out.
func (a Adapter) described(t *testing.T) {
	t.Helper()
	if len(a.Transient) == 0 || len(a.RateLimit) == 0 || len(a.Permanent) == 0 || len(a.Refused) == 0 {
		t.Fatal("the adapter needs transient, rate limit, permanent and refused answers")
	}
	if len(a.Reject) == 0 && a.NoReject == "" {
		t.Fatal("the adapter names no rejection and does not say why")
	}
	waits := slices.ContainsFunc(append(slices.Clone(a.Transient), a.RateLimit...), func(ans Answer) bool {
		return ans.retryAfter() > 0 && !ans.Unknown
	})
	if !waits {
		t.Fatal("no retried answer carries a Retry-After header")
	}
}

// success: a cell one over the batch limit goes out in two requests that
// carry every conversion once; the ledger stores each request as sent,
// without the credential, and each answer as it came.
func success(t *testing.T, a Adapter) {
	max := a.spec().MaxBatch
	d := a.Deliver(t, max+1, 3, a.Accepting(t))
	if s := d.Summary; s.Sent != max+1 || s.Requests != 2 || s.Retries != 0 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	calls := d.Calls()
	if n := len(a.Events(calls[0].Body)); n != max {
		t.Errorf("first request carries %d events, want %d", n, max)
	}
	var ids []string
	for _, c := range calls {
		ids = append(ids, a.Events(c.Body)...)
	}
	slices.Sort(ids)
	want := make([]string, max+1)
	for i := range want {
		want[i] = EventID(d.platform, i)
	}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("sent %d event ids, want each of the %d conversions once", len(ids), len(want))
	}
	reqs := d.Requests(t)
	if len(reqs) != 2 {
		t.Fatalf("%d ledger rows", len(reqs))
	}
	for i, r := range reqs {
		if r.Body != string(calls[i].Body) || !r.Response.Valid || r.Response.String != string(d.answer(i+1)) || r.Error.Valid {
			t.Errorf("ledger row %d does not hold the request and its answer: %+v", i, r)
		}
		storedURL(t, r.URL, calls[i])
	}
	if u := d.Upload(t); u.State != tally.Sent || u.Acked != max+1 {
		t.Errorf("upload = %+v", u)
	}
}

// storedURL checks the ledger's URL is the one requested, less the
// credential.
func storedURL(t *testing.T, stored string, c Call) {
	t.Helper()
	u, err := url.Parse(stored)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{}
	for k, vs := range c.Query {
		if !slices.Contains(vs, Secret) {
			want[k] = vs
		}
	}
	if strings.Contains(stored, Secret) || u.Path != c.Path || u.Query().Encode() != want.Encode() {
		t.Errorf("stored URL %s?%s, want %s?%s", u.Path, u.Query().Encode(), c.Path, want.Encode())
	}
}

// retried: after a transient answer the same bytes go out again, after the
// answer's Retry-After (else the first backoff step). An at-most-once
// platform does not resend a request it may have processed: its
// conversions become uncertain.
func retried(t *testing.T, a Adapter, ans Answer) {
	d := a.deliver(t, delivery{n: 20, attempts: 3, build: ans.New, respond: a.firstThen(t, ans)})
	s, calls, u := d.Summary, d.Calls(), d.Upload(t)
	reqs := d.Requests(t)
	if !reqs[0].Status.Valid || reqs[0].Status.Int64 != int64(ans.Status) || !strings.Contains(reqs[0].Error.String, ans.Want) {
		t.Errorf("first ledger row = %+v, want status %d and error with %q", reqs[0], ans.Status, ans.Want)
	}
	if ans.Unknown && a.spec().AtMostOnce {
		if s.Requests != 1 || len(calls) != 1 || s.Uncertain != 20 || s.Sent != 0 || len(d.Sleeps) != 0 ||
			s.Err == nil || !strings.Contains(s.Err.Error(), "outcome unknown") {
			t.Fatalf("summary = %+v, %d calls, sleeps %v; want one request, uncertain", s, len(calls), d.Sleeps)
		}
		if u.State != tally.Uncertain || u.Uncertain != 20 {
			t.Errorf("upload = %+v", u)
		}
		return
	}
	if s.Sent != 20 || s.Retries != 1 || s.Requests != 2 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	wait := ans.retryAfter()
	if wait == 0 {
		wait = batch.DefaultBaseBackoff
	}
	if len(d.Sleeps) != 1 || d.Sleeps[0] != wait {
		t.Errorf("sleeps = %v, want [%v]", d.Sleeps, wait)
	}
	if !bytes.Equal(calls[0].Body, calls[1].Body) {
		t.Error("a retry must send the same bytes")
	}
	if u.State != tally.Sent || u.Acked != 20 {
		t.Errorf("upload = %+v", u)
	}
}

// firstThen answers the first request with ans and the others with Accept.
func (a Adapter) firstThen(t *testing.T, ans Answer) Respond {
	return func(n int, c Call, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			ans.write(t, w)
			return
		}
		a.Accept(t, w, c)
	}
}
