package tiktok

import (
	"encoding/json"
	"fmt"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/internal/httpx"
)

type answer struct {
	Code      *int   `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// judge reads an answer. TikTok answers HTTP 200 even to business errors:
// code 0 is success, 40100 is rate limiting (retry), 40002 a validation
// error (the batch is bisected), other codes are permanent. An answer
// without TikTok's code (a redirect, a proxy's page, plain text) says
// nothing about the events, so it is judged by its HTTP status alone:
// 2xx, 408, 429 and 5xx retry, anything else stops the platform until the
// next run. It never rejects a conversion for good.
func judge(a *httpx.Answer) *batch.Reply {
	r := &batch.Reply{Status: a.Status, Body: a.Body, RetryAfter: a.RetryAfter}
	ok2xx := a.Status >= 200 && a.Status <= 299
	var ans answer
	jsonErr := json.Unmarshal(a.Body, &ans)
	if jsonErr != nil || ans.Code == nil || (*ans.Code == 0 && !ok2xx) {
		r.Message = fmt.Sprintf("tiktok: HTTP %d: %s", a.Status, httpx.Excerpt(a.Body, 200))
		r.Class = batch.Fatal
		if ok2xx || httpx.Transient(a.Status) {
			r.Class = batch.Retry // a 2xx without a code is a broken answer
		}
		return r
	}
	code := *ans.Code
	if code == 0 {
		r.Class = batch.OK
		return r
	}
	r.Message = fmt.Sprintf("tiktok: code %d: %s (request_id %s)", code, ans.Message, ans.RequestID)
	if !ok2xx {
		r.Message = fmt.Sprintf("tiktok: HTTP %d: code %d: %s (request_id %s)", a.Status, code, ans.Message, ans.RequestID)
	}
	switch {
	case code == 40100, code >= 50000, httpx.Transient(a.Status):
		r.Class = batch.Retry
	case code == 40002:
		r.Class = batch.Reject
	default:
		r.Class = batch.Fatal
	}
	return r
}
