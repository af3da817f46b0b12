package intake

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SensitivePurpose is the purpose a grant also needs under
// consent.require_sensitive: consent to process health data (Washington's
// My Health My Data Act, the GPP US sections' sensitive-data fields).
const SensitivePurpose = "health_data"

// maxConsentStringLen bounds a gpp or tcf string. Real strings are a few
// hundred characters (a TC string with a long vendor range a few
// thousand); the cap keeps one field from costing the decoder more than
// intake.max_body_bytes already allows for a whole request.
const maxConsentStringLen = 8192

// maxSectionIDs bounds gpp_sid: a GPP string has a few sections.
const maxSectionIDs = 32

// Strings are the consent evidence an event or a consent record may carry
// besides its purposes: an IAB GPP string with its applicable section ids,
// an IAB TCF v2 TC string, and a health-data consent. Only the grant or
// withdrawal they decode to is stored, never the strings.
type Strings struct {
	GPP    string
	GPPSID []int
	TCF    string
	// HealthData is the visitor's health-data consent when given
	// (nil: not said).
	HealthData *bool
}

// empty reports whether s carries no evidence.
func (s Strings) empty() bool { return s.GPP == "" && s.TCF == "" && s.HealthData == nil }

// wireStrings are the JSON fields Strings is read from, on events and
// consent records alike.
type wireStrings struct {
	GPP        json.RawMessage `json:"gpp"`
	GPPSID     json.RawMessage `json:"gpp_sid"`
	TCF        json.RawMessage `json:"tcf"`
	HealthData json.RawMessage `json:"health_data"`
}

// decode checks the fields' shapes; what the strings say is read later,
// with the configuration (Pipeline.readConsent). Errors name the field,
// never its value.
func (w wireStrings) decode() (Strings, error) {
	var s Strings
	var err error
	if s.GPP, err = str(w.GPP, "gpp", false, maxConsentStringLen); err != nil {
		return Strings{}, err
	}
	if s.TCF, err = str(w.TCF, "tcf", false, maxConsentStringLen); err != nil {
		return Strings{}, err
	}
	if s.GPPSID, err = sectionIDs(w.GPPSID); err != nil {
		return Strings{}, err
	}
	if w.HealthData != nil && string(w.HealthData) != "null" {
		var b bool
		if err := json.Unmarshal(w.HealthData, &b); err != nil {
			return Strings{}, errors.New("health_data: must be true or false")
		}
		s.HealthData = &b
	}
	return s, s.check()
}

// check refuses combinations that cannot be read.
func (s Strings) check() error {
	switch {
	case s.GPP != "" && len(s.GPPSID) == 0:
		return errors.New("gpp_sid: required with gpp (the CMP's applicable sections)")
	case s.GPP == "" && len(s.GPPSID) > 0:
		return errors.New("gpp_sid: given without gpp")
	}
	return nil
}

// sectionIDs reads gpp_sid: a JSON array of section ids, as the GPP CMP
// API's applicableSections gives them, or a string of ids separated by
// commas, as GPP URL macros and exports carry them.
func sectionIDs(raw json.RawMessage) ([]int, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var ids []int
	if err := json.Unmarshal(raw, &ids); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, errors.New("gpp_sid: must be an array of section ids or a string like \"7,8\"")
		}
		return parseSectionIDs(s)
	}
	if len(ids) > maxSectionIDs {
		return nil, fmt.Errorf("gpp_sid: more than %d section ids", maxSectionIDs)
	}
	return ids, nil
}

// parseSectionIDs reads a comma-separated list of section ids.
func parseSectionIDs(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxSectionIDs {
		return nil, fmt.Errorf("gpp_sid: more than %d section ids", maxSectionIDs)
	}
	ids := make([]int, 0, len(parts))
	for _, p := range parts {
		id, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, errors.New("gpp_sid: must list section ids as integers")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// said is what one consent input says about each purpose tally keeps.
type said map[string]saying

// saying is one purpose's grant or withdrawal and the frameworks that
// said it ("" for a plain purposes object).
type saying struct {
	granted bool
	source  string
}

// add folds one statement into s. Statements about the same purpose from
// different sources must all grant for a grant: a GPP string and a TC
// string that disagree are a withdrawal (consent fails closed).
func (s said) add(purpose string, granted bool, source string) {
	old, ok := s[purpose]
	if !ok {
		s[purpose] = saying{granted: granted, source: source}
		return
	}
	old.granted = old.granted && granted
	switch {
	case old.source == "":
		old.source = source
	case source != "" && !strings.Contains(old.source, source):
		old.source += "+" + source
	}
	s[purpose] = old
}

// keptPurposes are the purposes whose records are stored and checked:
// consent.purpose, and health_data under consent.require_sensitive.
func (p *Pipeline) keptPurposes() []string {
	if p.opt.RequireSensitive {
		return []string{p.opt.ConsentPurpose, SensitivePurpose}
	}
	return []string{p.opt.ConsentPurpose}
}

// readConsent is what purposes and strings together say about the kept
// purposes. A string that does not decode is an error carrying the
// decoder's reason.
func (p *Pipeline) readConsent(purposes map[string]bool, s Strings) (said, error) {
	out := said{}
	for _, name := range p.keptPurposes() {
		if granted, ok := purposes[name]; ok {
			out.add(name, granted, "")
		}
	}
	if s.HealthData != nil && p.opt.RequireSensitive {
		out.add(SensitivePurpose, *s.HealthData, "")
	}
	if s.GPP != "" {
		g, err := readGPP(s.GPP, s.GPPSID, p.opt.TCFPurposes)
		if err != nil {
			return nil, fmt.Errorf("gpp: %w", err)
		}
		out.add(p.opt.ConsentPurpose, g.advertising, "gpp")
		if p.opt.RequireSensitive {
			out.add(SensitivePurpose, g.health, "gpp")
		}
	}
	if s.TCF != "" {
		granted, err := readTCF(s.TCF, p.opt.TCFPurposes)
		if err != nil {
			return nil, fmt.Errorf("tcf: %w", err)
		}
		out.add(p.opt.ConsentPurpose, granted, "tcf")
	}
	return out, nil
}
