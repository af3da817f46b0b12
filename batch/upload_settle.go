package batch

import (
	"fmt"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// apply moves the ledger rows of c according to the answer, in memory; the
// caller commits them with the answer.
func (p *platformRun) apply(c chunk, reply *Reply, attempt int) {
	switch {
	case reply.Class == OK:
		for k, conv := range c.conv {
			u := c.owner[k]
			if msg, bad := reply.Rejected[k]; bad {
				p.rejectOne(c, k, msg)
				continue
			}
			resolve(u, c.resend != nil, conv.Index)
			u.Acked++
			p.sum.Sent++
			settle(u)
		}
		p.progress(len(c.conv))
	case p.unknown(reply):
		// A first delivery moves its conversions from unresolved to
		// uncertain; a resend leaves them uncertain.
		for k, conv := range c.conv {
			if u := c.owner[k]; c.resend == nil {
				u.Next = conv.Index + 1
				u.Uncertain++
			}
			p.sum.Uncertain++
		}
		for _, u := range c.owners() {
			u.LastError = "outcome unknown, not resent (tally upload --resend-uncertain sends it once more): " + reply.Message
			settle(u)
		}
		p.progress(len(c.conv))
	case reply.Class == Reject && c.resend != nil:
		for k := range c.conv {
			p.rejectOne(c, k, reply.Message)
		}
		p.progress(len(c.conv))
	case reply.Class == Reject && len(c.conv) == 1:
		p.rejectOne(c, 0, reply.Message)
		p.progress(1)
	case reply.Class == Fatal:
		for _, u := range c.owners() {
			fail(u, reply.Message)
		}
	case reply.Class == Retry && attempt >= p.t.MaxAttempts:
		for _, u := range c.owners() {
			fail(u, fmt.Sprintf("gave up after %d attempts: %s", attempt, reply.Message))
		}
	}
}

// fail records why u's delivery stopped; a row with uncertain conversions
// stays uncertain, which is what the operator must act on.
func fail(u *store.Upload, msg string) {
	if u.Uncertain == 0 {
		u.State = tally.Failed
	}
	u.LastError = msg
}

// progress tells the Progress hook about n resolved conversions.
func (p *platformRun) progress(n int) {
	if p.d.Progress != nil {
		p.d.Progress(p.spec.Platform, n)
	}
}

// resolve moves conversion i of u out of the unresolved range (a first
// delivery), or out of the uncertain count (a resend).
func resolve(u *store.Upload, resend bool, i int) {
	if resend {
		u.Uncertain--
		return
	}
	u.Next = i + 1
}

// rejectOne resolves conversion k of c as refused for good.
func (p *platformRun) rejectOne(c chunk, k int, msg string) {
	u := c.owner[k]
	resolve(u, c.resend != nil, c.conv[k].Index)
	u.Rejected++
	u.LastError = msg
	p.sum.Failed++
	settle(u)
}

// settle sets a row's state from its counts. An acknowledgement with
// nothing refused or unknown clears an earlier error.
func settle(u *store.Upload) {
	switch {
	case u.Uncertain > 0:
		u.State = tally.Uncertain
	case u.Next < u.Count:
		u.State = tally.Pending
	case u.Rejected > 0 && u.Acked > 0:
		u.State = tally.Partial
	case u.Rejected > 0:
		u.State = tally.Failed
	default:
		u.State = tally.Sent
	}
	if u.Rejected == 0 && u.Uncertain == 0 {
		u.LastError = ""
	}
}
