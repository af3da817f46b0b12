package meta

import (
	"encoding/json"
	"fmt"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/internal/httpx"
)

// apiError is the Graph API error object.
type apiError struct {
	Error *struct {
		Message        string `json:"message"`
		Type           string `json:"type"`
		Code           int    `json:"code"`
		ErrorSubcode   int    `json:"error_subcode"`
		ErrorUserTitle string `json:"error_user_title"`
		ErrorUserMsg   string `json:"error_user_msg"`
		FBTraceID      string `json:"fbtrace_id"`
	} `json:"error"`
}

type success struct {
	EventsReceived *int `json:"events_received"`
}

// transientCodes are the Graph API codes Meta documents as worth retrying:
// unknown (1), service (2), app rate limit (4), user rate limit (17),
// temporary issue (341), temporarily blocked (368).
var transientCodes = map[int]bool{1: true, 2: true, 4: true, 17: true, 341: true, 368: true}

// judge reads the answer to a request of sent events: 200 with
// events_received equal to sent is success; fewer (or more) is not an
// acknowledgement of all, and the request is retried whole, which is safe
// because Meta counts an event_name + event_id once. Transient codes, 408,
// 429 and 5xx retry; a bad token or missing permission stops the platform;
// a bad parameter rejects the batch (one invalid event fails the whole
// request, so the engine bisects). An error body without a Graph API code
// says nothing about the events: it is judged by its HTTP status alone.
func judge(a *httpx.Answer, sent int) *batch.Reply {
	r := &batch.Reply{Status: a.Status, Body: a.Body, RetryAfter: a.RetryAfter}
	var e apiError
	decodeErr := json.Unmarshal(a.Body, &e)
	if a.Status == 200 && e.Error == nil {
		var s success
		if err := json.Unmarshal(a.Body, &s); err != nil || s.EventsReceived == nil {
			r.Class, r.Message = batch.Retry, "meta: 200 without events_received: "+httpx.Excerpt(a.Body, 200)
			return r
		}
		if *s.EventsReceived != sent {
			r.Class = batch.Retry
			r.Message = fmt.Sprintf("meta: events_received %d of %d sent: %s", *s.EventsReceived, sent, httpx.Excerpt(a.Body, 200))
			return r
		}
		r.Class = batch.OK
		return r
	}
	if e.Error == nil || decodeErr != nil || e.Error.Code == 0 {
		// Not Graph API's error object ({"error":"text"}, an error without a
		// code, a proxy's page): its text is all there is to report.
		r.Message = fmt.Sprintf("meta: HTTP %d: %s", a.Status, httpx.Excerpt(a.Body, 200))
		r.Class = batch.Fatal
		if httpx.Transient(a.Status) || a.Status == 200 {
			r.Class = batch.Retry
		}
		return r
	}
	err := e.Error
	r.Message = fmt.Sprintf("meta: HTTP %d: code %d", a.Status, err.Code)
	if err.ErrorSubcode != 0 {
		r.Message += fmt.Sprintf("/%d", err.ErrorSubcode)
	}
	r.Message += ": " + err.Message
	if err.ErrorUserMsg != "" {
		r.Message += " (" + err.ErrorUserMsg + ")"
	}
	if err.Message == "" && err.ErrorUserMsg == "" {
		r.Message += httpx.Excerpt(a.Body, 200)
	}
	switch {
	case transientCodes[err.Code], httpx.Transient(a.Status):
		r.Class = batch.Retry
	case err.Code == 190, err.Code == 10, err.Code >= 200 && err.Code <= 299:
		// Token or permission: nothing in the batch is to blame.
		r.Class = batch.Fatal
	case err.Code == 100 && err.ErrorSubcode == 33:
		// The dataset does not exist or the token cannot see it.
		r.Class = batch.Fatal
	default:
		r.Class = batch.Reject
	}
	return r
}
