package google

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/internal/httpx"
)

// GA4 Measurement Protocol limits.
const (
	maxName       = 40
	maxParamValue = 100
	maxParams     = 25
	maxBody       = 130_000
)

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// reservedPrefixes and reservedNames are refused by GA4.
var (
	reservedPrefixes = []string{"google_", "ga_", "firebase_"}
	reservedNames    = map[string]bool{
		"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_impression": true, "ad_query": true,
		"adunit_exposure": true, "app_clear_data": true, "app_install": true, "app_remove": true, "app_update": true,
		"error": true, "first_open": true, "first_visit": true, "in_app_purchase": true, "notification_dismiss": true,
		"notification_foreground": true, "notification_open": true, "notification_receive": true, "os_update": true,
		"screen_view": true, "session_start": true, "user_engagement": true,
	}
)

// validName checks an event or parameter name.
func validName(kind, n string) error {
	switch {
	case utf8.RuneCountInString(n) > maxName:
		return fmt.Errorf("google: %s name %q is over %d characters", kind, n, maxName)
	case !nameRE.MatchString(n):
		return fmt.Errorf("google: %s name %q must be letters, digits and _ and start with a letter", kind, n)
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(strings.ToLower(n), p) {
			return fmt.Errorf("google: %s name %q uses the reserved prefix %q", kind, n, p)
		}
	}
	if kind == "event" && reservedNames[n] {
		return fmt.Errorf("google: event name %q is reserved by GA4", n)
	}
	return nil
}

func validEvent(name string, params map[string]string) error {
	if err := validName("event", name); err != nil {
		return err
	}
	if len(params) > maxParams {
		return fmt.Errorf("google: event %q has %d params, GA4 takes %d", name, len(params), maxParams)
	}
	for k, v := range params {
		if err := validName("param", k); err != nil {
			return err
		}
		// GA4 counts characters: 64 "é" (128 bytes) is 64.
		if utf8.RuneCountInString(v) > maxParamValue {
			return fmt.Errorf("google: param %s value is over %d characters", k, maxParamValue)
		}
	}
	return nil
}

type validation struct {
	ValidationMessages []struct {
		FieldPath      string `json:"fieldPath"`
		Description    string `json:"description"`
		ValidationCode string `json:"validationCode"`
	} `json:"validationMessages"`
}

var eventPath = regexp.MustCompile(`^events\[\d+\]`)

// judgeValidation reads the debug endpoint's answer: nil when the request
// may be sent. Messages that all point at events reject the batch (the
// engine bisects to the bad one); any other message stops the platform.
func judgeValidation(a *httpx.Answer) *batch.Reply {
	r := &batch.Reply{Status: a.Status, Body: a.Body, RetryAfter: a.RetryAfter}
	if a.Status < 200 || a.Status >= 300 {
		r.Class, r.Message = batch.Fatal, fmt.Sprintf("google: validation: HTTP %d: %s", a.Status, httpx.Excerpt(a.Body, 200))
		if httpx.Transient(a.Status) {
			r.Class = batch.Retry
		}
		return r
	}
	var v validation
	if err := json.Unmarshal(a.Body, &v); err != nil {
		r.Class, r.Message = batch.Retry, "google: validation: unreadable answer: "+httpx.Excerpt(a.Body, 200)
		return r
	}
	if len(v.ValidationMessages) == 0 {
		return nil
	}
	r.Class = batch.Reject
	var msgs []string
	for _, m := range v.ValidationMessages {
		msgs = append(msgs, fmt.Sprintf("%s: %s (%s)", m.FieldPath, m.Description, m.ValidationCode))
		if !eventPath.MatchString(m.FieldPath) {
			r.Class = batch.Fatal
		}
	}
	r.Message = "google: validation: " + strings.Join(msgs, "; ")
	return r
}
