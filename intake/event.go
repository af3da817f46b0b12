// Package intake is tally's one door for events and consent: decoding,
// the consent check (fail closed), allowlist sanitising and the group-commit
// writer. HTTP requests and imported files go through the same Pipeline.
package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on incoming values.
const (
	maxEventIDLen = 128
	maxVisitorLen = 256
	maxNameLen    = 256
	maxSourceLen  = 256
)

// Event is a decoded event. It lives only in memory during intake; only its
// cell (day, platform, campaign, conversion) and keyed hashes are stored.
type Event struct {
	EventID   string
	Name      string
	VisitorID string
	Time      time.Time // zero: the time received
	Source    string
	Campaign  string
	// Strings are the consent strings the event carries: what the CMP
	// said when it was made.
	Strings Strings
}

// wireEvent names the only fields intake reads. encoding/json skips every
// other field without keeping its name or value.
type wireEvent struct {
	EventID   json.RawMessage `json:"event_id"`
	Event     json.RawMessage `json:"event"`
	VisitorID json.RawMessage `json:"visitor_id"`
	Time      json.RawMessage `json:"time"`
	Source    json.RawMessage `json:"source"`
	Campaign  json.RawMessage `json:"campaign"`
	wireStrings
}

// wireBody is either one event or {"events":[...]}.
type wireBody struct {
	Events json.RawMessage `json:"events"`
}

// ErrMalformed marks a body that is not one JSON value (whole-request 400).
var ErrMalformed = errors.New("malformed JSON")

// SplitBody decodes a request body into its raw event objects. A body must
// be exactly one JSON value: an event object or {"events":[...]}. One
// Unmarshal both validates the whole body (trailing data included) and
// finds "events"; a single event is then decoded once more by DecodeEvent.
func SplitBody(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: want an event object or {\"events\":[...]}", ErrMalformed)
	}
	var b wireBody
	if err := json.Unmarshal(trimmed, &b); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) && strings.Contains(syn.Error(), "after top-level value") {
			return nil, fmt.Errorf("%w: trailing data after the JSON value", ErrMalformed)
		}
		return nil, ErrMalformed
	}
	if b.Events == nil || string(b.Events) == "null" {
		return []json.RawMessage{trimmed}, nil
	}
	var events []json.RawMessage
	if err := json.Unmarshal(b.Events, &events); err != nil {
		return nil, fmt.Errorf("%w: \"events\" must be an array", ErrMalformed)
	}
	return events, nil
}

// DecodeEvent reads one event object. Its error names the field at fault,
// never its value: values may hold personal data.
func DecodeEvent(raw []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(raw, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Event{}, errors.New("event must be a JSON object")
		}
		return Event{}, errors.New("event is not valid JSON")
	}
	var ev Event
	var err error
	if ev.EventID, err = str(w.EventID, "event_id", true, maxEventIDLen); err != nil {
		return Event{}, err
	}
	if ev.Name, err = str(w.Event, "event", true, maxNameLen); err != nil {
		return Event{}, err
	}
	if ev.VisitorID, err = str(w.VisitorID, "visitor_id", true, maxVisitorLen); err != nil {
		return Event{}, err
	}
	if ev.Source, err = str(w.Source, "source", false, maxSourceLen); err != nil {
		return Event{}, err
	}
	// campaign values are judged by the pattern later (bad_campaign), so
	// any string is structurally valid here.
	if ev.Campaign, err = str(w.Campaign, "campaign", false, math.MaxInt); err != nil {
		return Event{}, err
	}
	if ev.Time, err = ParseTime(w.Time, "time"); err != nil {
		return Event{}, err
	}
	if ev.Strings, err = w.wireStrings.decode(); err != nil {
		return Event{}, err
	}
	if missing := w.Time == nil || string(w.Time) == "null" || string(w.Time) == `""`; !missing && ev.Time.Before(minEventTime) {
		// Year 0001 is Go's zero time, which would otherwise read as
		// "missing" and become the time received.
		return Event{}, errors.New("time: before 2000-01-01")
	}
	return ev, nil
}

// minEventTime is the earliest event time accepted: an earlier one is a
// broken clock or a default value, not a conversion tally could count.
var minEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// str reads a string field. Missing or null is "" (an error when required).
func str(raw json.RawMessage, field string, required bool, max int) (string, error) {
	if raw == nil || string(raw) == "null" {
		if required {
			return "", fmt.Errorf("%s: required", field)
		}
		return "", nil
	}
	var s string
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		// A string without escapes, already validated as JSON by the
		// body's decoder, is its bytes between the quotes.
		s = string(raw[1 : n-1])
	} else if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: must be a string", field)
	}
	if required && s == "" {
		return "", fmt.Errorf("%s: must not be empty", field)
	}
	if utf8.RuneCountInString(s) > max {
		return "", fmt.Errorf("%s: longer than %d characters", field, max)
	}
	return s, nil
}

// ParseTime reads an optional time: RFC 3339 text or unix seconds (a JSON
// number or a string of digits). Missing or null is the zero time.
func ParseTime(raw json.RawMessage, field string) (time.Time, error) {
	if raw == nil || string(raw) == "null" {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw) // a JSON number
	}
	return parseTimeText(s, field)
}

func parseTimeText(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("%s: want RFC 3339 or unix seconds", field)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
