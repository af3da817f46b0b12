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

type batchAnswer struct {
	Elements []struct {
		Status int        `json:"status"`
		Error  *restError `json:"error"`
	} `json:"elements"`
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

// judge reads an answer: every element 201 is success; an element-level
// refusal rejects that conversion alone; a whole-request 422/400 rejects the
// batch (bisected), unless it is the missing-user-id problem, which no split
// can fix; 401/403 stop the platform; 408/429/5xx retry.
func judge(a *httpx.Answer) *batch.Reply {
	r := &batch.Reply{Status: a.Status, Body: a.Body, RetryAfter: a.RetryAfter}
	if a.Status == 200 || a.Status == 201 {
		var ans batchAnswer
		if err := json.Unmarshal(a.Body, &ans); err != nil {
			r.Class, r.Message = batch.Retry, "linkedin: unreadable answer: "+httpx.Excerpt(a.Body, 200)
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
	r.Message = fmt.Sprintf("linkedin: HTTP %d: %s", a.Status, msg)
	switch {
	case httpx.Transient(a.Status):
		r.Class = batch.Retry
	case userIDProblem.MatchString(msg):
		r.Class, r.Message = batch.Fatal, noUserID(msg)
	case a.Status == 400 || a.Status == 422:
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
