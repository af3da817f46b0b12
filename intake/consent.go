package intake

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/tally-health/tally/store"
)

// ConsentInput is one decoded consent record.
type ConsentInput struct {
	VisitorID string
	Purposes  map[string]bool
	Time      time.Time // zero: the time received
	Source    string
	Version   string
	// Strings are the consent strings and health-data consent it carries.
	Strings Strings
}

type wireConsent struct {
	VisitorID json.RawMessage `json:"visitor_id"`
	Purposes  json.RawMessage `json:"purposes"`
	Time      json.RawMessage `json:"time"`
	Source    json.RawMessage `json:"source"`
	Version   json.RawMessage `json:"version"`
	wireStrings
}

// DecodeConsent reads one consent object. Errors name the field, not its value.
func DecodeConsent(raw []byte) (ConsentInput, error) {
	var w wireConsent
	if err := json.Unmarshal(raw, &w); err != nil {
		return ConsentInput{}, errors.New("consent must be a JSON object")
	}
	var c ConsentInput
	var err error
	if c.VisitorID, err = str(w.VisitorID, "visitor_id", true, maxVisitorLen); err != nil {
		return ConsentInput{}, err
	}
	if c.Strings, err = w.wireStrings.decode(); err != nil {
		return ConsentInput{}, err
	}
	if w.Purposes == nil || string(w.Purposes) == "null" {
		if c.Strings.empty() {
			return ConsentInput{}, errors.New("purposes: required (or gpp, tcf, health_data)")
		}
	} else if err := json.Unmarshal(w.Purposes, &c.Purposes); err != nil {
		return ConsentInput{}, errors.New("purposes: must be an object of true/false")
	}
	if c.Time, err = ParseTime(w.Time, "time"); err != nil {
		return ConsentInput{}, err
	}
	// source and version are only read here: ConsentRecord keeps them when
	// they are on their allowlist and drops them otherwise, so a label that
	// holds personal data never costs the visitor their decision.
	if c.Source, err = str(w.Source, "source", false, math.MaxInt); err != nil {
		return ConsentInput{}, err
	}
	if c.Version, err = str(w.Version, "version", false, math.MaxInt); err != nil {
		return ConsentInput{}, err
	}
	return c, nil
}

// ConsentStore appends consent records, leaving out any that repeats its
// visitor's latest state, and says how many it added.
type ConsentStore interface {
	RecordConsents(ctx context.Context, recs []store.Consent, now time.Time) (int, error)
}

// clientClockReach is how far before its arrival a browser's consent time
// may lie: enough for a page's calls still in flight, never back to the
// events its visitor made days before.
const clientClockReach = 5 * time.Minute

// ClientTime bounds a consent time sent by a browser with the server's
// clock: tally.js stamps each consent call with its page's clock, strictly
// increasing, so a visitor's records are ordered as they were made,
// whatever order their requests arrive in. A time ahead of the server's
// clock is clamped to now, so that a consent never takes effect after an
// event the server stamps right after it (events from tally.js carry the
// server's time), and min(client, now) keeps the page's order. A time more
// than clientClockReach behind is clamped to that bound, so that a
// backdated grant never covers events made before it arrived (a grant and
// a withdrawal both clamped tie, and the withdrawal wins). A missing time
// is now.
func (p *Pipeline) ClientTime(t time.Time) time.Time {
	now := p.Now()
	switch {
	case t.IsZero() || t.After(now):
		return now
	case t.Before(now.Add(-clientClockReach)):
		return now.Add(-clientClockReach)
	}
	return t
}

// ConsentRecords turns one input into the records to store: one for each
// kept purpose (consent.purpose, and health_data under
// consent.require_sensitive) that its purposes or strings speak about;
// none when they say nothing about them (other purposes are not kept). A
// string that does not decode is an error with the decoder's reason, and
// nothing is recorded. A record decided by a string has the framework as
// its source ("gpp", "tcf"); the string itself is never kept. Under
// Global Privacy Control a grant is recorded as a withdrawal.
func (p *Pipeline) ConsentRecords(c ConsentInput, gpc bool) ([]store.Consent, error) {
	s, err := p.readConsent(c.Purposes, c.Strings)
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, nil
	}
	now := p.Now()
	at := c.Time
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(futureSkew)) {
		return nil, errors.New("time: in the future")
	}
	if gpc && p.opt.HonorGPC {
		for k, v := range s {
			v.granted = false
			s[k] = v
		}
	}
	return p.records(s, p.Hash("visitor", c.VisitorID), at, c.Source, c.Version), nil
}

// records are the records of what s says, in the order of keptPurposes.
// A statement made by a string has the framework as its source; any
// other has source if it is on consent.sources.
func (p *Pipeline) records(s said, visitorKey []byte, at time.Time, source, version string) []store.Consent {
	var recs []store.Consent
	for _, purpose := range p.keptPurposes() {
		v, ok := s[purpose]
		if !ok {
			continue
		}
		src := v.source
		if src == "" {
			src = p.label("source", p.consentSources, source)
		}
		recs = append(recs, store.Consent{VisitorKey: visitorKey, Purpose: purpose, Granted: v.granted, Time: at,
			Source: src, Version: p.label("version", p.consentVersions, version)})
	}
	return recs
}

// label returns v when it is on its allowlist (consent.sources or
// consent.versions), else "" and counts the drop: free text in an
// append-only table could be a record number or a diagnosis.
func (p *Pipeline) label(name string, allowed map[string]bool, v string) string {
	if v == "" || allowed[v] {
		return v
	}
	p.Metrics.countLabelDropped(name)
	return ""
}
