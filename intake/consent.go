package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/tally-health/tally/store"
)

// evidence bounds the optional consent evidence (tool name, policy
// version) to short labels such as "onetrust" or "policy-v3.2": no spaces
// (names), no @ (emails), no + or / (phone numbers, URLs), and at least one
// letter (a bare number could be a phone or record number).
var (
	evidence       = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	evidenceLetter = regexp.MustCompile(`[A-Za-z]`)
)

// ConsentInput is one decoded consent record.
type ConsentInput struct {
	VisitorID string
	Purposes  map[string]bool
	Time      time.Time // zero: the time received
	Source    string
	Version   string
}

type wireConsent struct {
	VisitorID json.RawMessage `json:"visitor_id"`
	Purposes  json.RawMessage `json:"purposes"`
	Time      json.RawMessage `json:"time"`
	Source    json.RawMessage `json:"source"`
	Version   json.RawMessage `json:"version"`
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
	if w.Purposes == nil || string(w.Purposes) == "null" {
		return ConsentInput{}, errors.New("purposes: required")
	}
	if err := json.Unmarshal(w.Purposes, &c.Purposes); err != nil {
		return ConsentInput{}, errors.New("purposes: must be an object of true/false")
	}
	if c.Time, err = ParseTime(w.Time, "time"); err != nil {
		return ConsentInput{}, err
	}
	for _, f := range []struct {
		raw  json.RawMessage
		name string
		dst  *string
	}{{w.Source, "source", &c.Source}, {w.Version, "version", &c.Version}} {
		if *f.dst, err = str(f.raw, f.name, false, 64); err != nil {
			return ConsentInput{}, err
		}
		if *f.dst != "" && (!evidence.MatchString(*f.dst) || !evidenceLetter.MatchString(*f.dst)) {
			return ConsentInput{}, fmt.Errorf("%s: want a short label of letters, digits and _ . : - (at most 64, at least one letter)", f.name)
		}
	}
	return c, nil
}

// ConsentStore appends consent records.
type ConsentStore interface {
	AddConsents(ctx context.Context, recs []store.Consent, now time.Time) error
}

// ConsentRecord turns one input into the record to store, or ok=false when
// it says nothing about the configured purpose (other purposes are not
// kept). Under Global Privacy Control a grant is recorded as a withdrawal.
func (p *Pipeline) ConsentRecord(c ConsentInput, gpc bool) (store.Consent, bool, error) {
	granted, ok := c.Purposes[p.cfg.Consent.Purpose]
	if !ok {
		return store.Consent{}, false, nil
	}
	now := p.Now()
	at := c.Time
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(futureSkew)) {
		return store.Consent{}, false, errors.New("time: in the future")
	}
	if gpc && p.cfg.Consent.HonorGPC {
		granted = false
	}
	return store.Consent{
		VisitorKey: p.Hash("visitor", c.VisitorID),
		Purpose:    p.cfg.Consent.Purpose,
		Granted:    granted,
		Time:       at,
		Source:     c.Source,
		Version:    c.Version,
	}, true, nil
}
