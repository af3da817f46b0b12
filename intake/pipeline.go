package intake

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/campaign"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/store"
)

// futureSkew is how far ahead of the clock an event time may be.
const futureSkew = 5 * time.Minute

// Pipeline runs the checks of DESIGN.md in order. It holds no per-person
// state: everything it decides is either a drop counted by reason or a
// store.NewEvent carrying only a cell and keyed hashes.
type Pipeline struct {
	cfg      *config.Config
	key      []byte
	loc      *time.Location
	campaign *regexp.Regexp
	// campaigns, when not empty, is intake.campaigns: it replaces campaign.
	campaigns map[string]bool
	sources   map[string]tally.Platform
	// consentSources and consentVersions are the consent labels stored.
	consentSources, consentVersions map[string]bool
	Now                             func() time.Time
	// Metrics, when set, counts the consent labels dropped.
	Metrics *Metrics
}

// NewPipeline builds a pipeline from a validated config and the hash key.
func NewPipeline(cfg *config.Config, key []byte) (*Pipeline, error) {
	loc, err := time.LoadLocation(cfg.Rollup.Timezone)
	if err != nil {
		return nil, fmt.Errorf("intake: timezone: %w", err)
	}
	// The pattern must match the whole value: `^a$|^b` alone would let
	// "b" followed by anything through.
	re, err := regexp.Compile(`^(?:` + cfg.Intake.CampaignPattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("intake: campaign pattern: %w", err)
	}
	campaigns := set(cfg.Intake.Campaigns)
	sources := make(map[string]tally.Platform, len(cfg.Sources))
	for k, v := range cfg.Sources {
		sources[strings.ToLower(k)] = v
	}
	return &Pipeline{cfg: cfg, key: key, loc: loc, campaign: re, campaigns: campaigns, sources: sources,
		consentSources: set(cfg.Consent.Sources), consentVersions: set(cfg.Consent.Versions), Now: time.Now}, nil
}

func set(vals []string) map[string]bool {
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		m[v] = true
	}
	return m
}

// Verdict is the part of an event's fate decided without the database:
// either a drop (Outcome set) or an event for the writer to judge (Event
// set), which checks consent before anything else.
type Verdict struct {
	Outcome tally.Outcome
	Reason  tally.Reason
	Day     tally.Day
	Event   *store.NewEvent
}

// Check runs every check that needs no database. gpc reports the request's
// Sec-GPC header. A later check that fails (unmapped event, bad campaign,
// event time) is recorded as the event's Pending reason: the writer applies
// it only when consent holds, so the outcome follows DESIGN.md's order.
func (p *Pipeline) Check(ev Event, gpc bool) Verdict {
	now := p.Now()
	at := ev.Time
	if at.IsZero() {
		at = now
	}
	day := p.Day(at)
	if at.After(now.Add(futureSkew)) || at.Before(now.Add(-p.cfg.Intake.MaxEventAge.D())) {
		// Out-of-range times are counted on the day received, so a forged
		// time cannot create rows for arbitrary days.
		day = p.Day(now)
	}
	if gpc && p.cfg.Consent.HonorGPC {
		return Verdict{Outcome: tally.Dropped, Reason: tally.ReasonGPC, Day: day}
	}
	ne := &store.NewEvent{VisitorKey: p.Hash("visitor", ev.VisitorID), At: at}
	ne.Day = day
	conversion, ok := p.cfg.Events[ev.Name]
	platform, known := p.sources[strings.ToLower(ev.Source)]
	if !known {
		platform = tally.PlatformNone
	}
	switch {
	case !ok:
		ne.Pending = tally.ReasonUnmappedEvent
	case ev.Campaign != "" && !p.campaignAllowed(ev.Campaign):
		ne.Pending = tally.ReasonBadCampaign
	case at.After(now.Add(futureSkew)):
		ne.Pending = tally.ReasonFuture
	case at.Before(now.Add(-p.cfg.Intake.MaxEventAge.D())):
		ne.Pending = tally.ReasonTooOld
	default:
		// Only an event that passed every check carries a cell and a
		// dedup key; a dropped one carries nothing but its day.
		ne.Cell = tally.Cell{Day: day, Platform: platform, Campaign: ev.Campaign, Conversion: conversion}
		ne.DedupKey = p.Hash("event_id", ev.EventID)
	}
	return Verdict{Day: day, Event: ne}
}

// campaignAllowed reports whether a non-empty campaign may be stored: it is
// on intake.campaigns (or matches intake.campaign_pattern when the list is
// empty) and passes campaign.Check, which no configuration relaxes.
func (p *Pipeline) campaignAllowed(c string) bool {
	if len(p.campaigns) > 0 {
		if !p.campaigns[c] {
			return false
		}
	} else if !p.campaign.MatchString(c) {
		return false
	}
	return campaign.Check(c) == nil
}

// ConsentRule is the consent configuration as the writer applies it, with
// the bound on cells per day it enforces in the same transaction.
func (p *Pipeline) ConsentRule() store.ConsentRule {
	return store.ConsentRule{Purpose: p.cfg.Consent.Purpose, MaxAge: p.cfg.Consent.MaxAge.D(),
		MaxCellsPerDay: p.cfg.Intake.MaxCellsPerDay}
}

// Day is t's calendar day in rollup.timezone.
func (p *Pipeline) Day(t time.Time) tally.Day { return tally.DayOf(t, p.loc) }

// Hash is the keyed hash of a value within a domain ("visitor",
// "event_id"), truncated to store.KeyLen bytes.
func (p *Pipeline) Hash(domain, v string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)[:store.KeyLen]
}
