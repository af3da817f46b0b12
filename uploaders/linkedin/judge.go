package linkedin

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/internal/httpx"
)

// restError is a Rest.li error body.
type restError struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode"`
	Code             string `json:"code"`
	Message          string `json:"message"`
}

// batchAnswer is a BATCH_CREATE answer: one status per element. A 200 may
// still carry a Rest.li error, at the top level or under "error".
type batchAnswer struct {
	Elements []struct {
		Status int        `json:"status"`
		Error  *restError `json:"error"`
	} `json:"elements"`
	restError
	Error json.RawMessage `json:"error"`
}

// failure returns the error a 2xx answer carries, if any.
func (b *batchAnswer) failure() (status int, msg string, ok bool) {
	if e := b.Error; len(e) > 0 && string(e) != "null" {
		var inner restError
		if json.Unmarshal(e, &inner) == nil {
			return inner.Status, firstNonEmpty(inner.Message, inner.Code, string(e)), true
		}
		return 0, string(e), true
	}
	if b.Status >= 300 || b.Message != "" || b.Code != "" || b.ServiceErrorCode != 0 {
		return b.Status, firstNonEmpty(b.Message, b.Code), true
	}
	return 0, "", false
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// userIDProblem matches LinkedIn's complaints that a conversion names no
// member.
var userIDProblem = regexp.MustCompile(`(?i)user ?ids?\b|userInfo|user identifier|at least one .*user`)

// NoUserIDHelp explains the one rejection tally cannot fix by retrying.
const NoUserIDHelp = "LinkedIn requires a member identifier (hashed email, LinkedIn first-party tracking UUID, " +
	"Acxiom/Oracle id, or first and last name) on each conversion, and tally by design sends only a synthetic " +
	"external id; LinkedIn will not accept tally's conversions for this account or rule (see docs/UPLOADERS.md)"

func noUserID(msg string) string {
	return "linkedin: conversion rejected for having no user id: " + NoUserIDHelp + "; LinkedIn said: " + msg
}

// judge reads the answer to a request of sent conversions: one 2xx status
// per element, as many elements as were sent, is success; an element-level
// refusal rejects that conversion alone; a 2xx that carries an error or
// lists fewer (or more) elements than were sent acknowledges nothing and
// is retried whole, which is safe because LinkedIn counts an eventId once.
// A whole-request 422/400 rejects the batch (bisected), unless it is the
// missing-user-id problem, which no split can fix; 401/403 stop the
// platform; 408/429/5xx retry.
func judge(a *httpx.Answer, sent int) *batch.Reply {
	r := &batch.Reply{Status: a.Status, Body: a.Body, RetryAfter: a.RetryAfter}
	if a.Status == 200 || a.Status == 201 {
		var ans batchAnswer
		if err := json.Unmarshal(a.Body, &ans); err != nil {
			r.Class, r.Message = batch.Retry, "linkedin: unreadable answer: "+httpx.Excerpt(a.Body, 200)
			return r
		}
		if status, msg, ok := ans.failure(); ok {
			return judgeError(r, status, fmt.Sprintf("linkedin: HTTP %d with an error (status %d)", a.Status, status), msg)
		}
		if len(ans.Elements) != sent {
			r.Class = batch.Retry
			r.Message = fmt.Sprintf("linkedin: answer lists %d elements for %d sent: %s", len(ans.Elements), sent, httpx.Excerpt(a.Body, 200))
			return r
		}
		return judgeElements(r, &ans)
	}
	var e restError
	_ = json.Unmarshal(a.Body, &e)
	msg := e.Message
	if msg == "" {
		msg = httpx.Excerpt(a.Body, 200)
	}
	return judgeError(r, a.Status, fmt.Sprintf("linkedin: HTTP %d", a.Status), msg)
}

// judgeError classifies LinkedIn's error msg of the given status (0 when
// the answer names none: retried, since a resend is safe); what says what
// answered.
func judgeError(r *batch.Reply, status int, what, msg string) *batch.Reply {
	r.Message = what + ": " + msg
	switch {
	case httpx.Transient(status):
		r.Class = batch.Retry
	case userIDProblem.MatchString(msg):
		r.Class, r.Message = batch.Fatal, noUserID(msg)
	case status == 0:
		r.Class = batch.Retry
	case status == 400 || status == 422:
		r.Class = batch.Reject
	default: // 401, 403, 404: token, permission, version or rule
		r.Class = batch.Fatal
	}
	return r
}

func judgeElements(r *batch.Reply, ans *batchAnswer) *batch.Reply {
	rejected := map[int]string{}
	var last string
	transient := 0
	for i, el := range ans.Elements {
		if el.Status >= 200 && el.Status < 300 {
			continue
		}
		msg := fmt.Sprintf("linkedin: element status %d", el.Status)
		if el.Error != nil && el.Error.Message != "" {
			msg += ": " + el.Error.Message
		}
		if httpx.Transient(el.Status) {
			transient++
		}
		rejected[i], last = msg, msg
	}
	switch {
	case len(rejected) == 0:
		r.Class = batch.OK
	case userIDProblem.MatchString(last):
		r.Class, r.Message = batch.Fatal, noUserID(last)
	case len(rejected) == len(ans.Elements) && transient > 0:
		r.Class, r.Message = batch.Retry, last
	case len(rejected) == len(ans.Elements):
		r.Class, r.Message = batch.Reject, last
	default:
		r.Class, r.Rejected = batch.OK, rejected
	}
	return r
}
