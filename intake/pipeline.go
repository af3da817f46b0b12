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
	"github.com/tally-health/tally/store"
)

// futureSkew is how far ahead of the clock an event time may be.
const futureSkew = 5 * time.Minute

// Options are the intake's settings, as plain values: cmd/tally builds
// them from the configuration.
type Options struct {
	// Key is the permanent hash key.
	Key []byte
	// Location is rollup.timezone: an event counts on its day there.
	Location *time.Location
	// MaxEventAge is intake.max_event_age.
	MaxEventAge time.Duration
	// Events maps event names to conversions ([events]).
	Events map[string]string
	// Sources maps sources to platforms ([sources]); matched ignoring case.
	Sources map[string]tally.Platform
	// CampaignPattern is intake.campaign_pattern; Campaigns, when not
	// empty, is intake.campaigns and replaces it.
	CampaignPattern string
	Campaigns       []string
	// MaxCellsPerDay is intake.max_cells_per_day.
	MaxCellsPerDay int
	// ConsentPurpose, ConsentMaxAge and HonorGPC are consent.purpose,
	// consent.max_age and consent.honor_gpc.
	ConsentPurpose string
	ConsentMaxAge  time.Duration
	HonorGPC       bool
	// ConsentSources and ConsentVersions are the consent labels stored
	// (consent.sources, consent.versions).
	ConsentSources, ConsentVersions []string
	// The HTTP server's limits: intake.max_body_bytes, intake.max_batch,
	// intake.allowed_origins, intake.rate_per_client, intake.burst_per_client.
	MaxBodyBytes   int64
	MaxBatch       int
	AllowedOrigins []string
	RatePerClient  float64
	BurstPerClient int
}

// Pipeline runs the checks of DESIGN.md in order. It holds no per-person
// state: everything it decides is either a drop counted by reason or a
// store.NewEvent carrying only a cell and keyed hashes.
type Pipeline struct {
	opt      Options
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

// NewPipeline builds a pipeline from validated options.
func NewPipeline(opt Options) (*Pipeline, error) {
	// The pattern must match the whole value: `^a$|^b` alone would let
	// "b" followed by anything through.
	re, err := regexp.Compile(`^(?:` + opt.CampaignPattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("intake: campaign pattern: %w", err)
	}
	sources := make(map[string]tally.Platform, len(opt.Sources))
	for k, v := range opt.Sources {
		sources[strings.ToLower(k)] = v
	}
	return &Pipeline{opt: opt, campaign: re, campaigns: set(opt.Campaigns), sources: sources,
		consentSources: set(opt.ConsentSources), consentVersions: set(opt.ConsentVersions), Now: time.Now}, nil
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
	if at.After(now.Add(futureSkew)) || at.Before(now.Add(-p.opt.MaxEventAge)) {
		// Out-of-range times are counted on the day received, so a forged
		// time cannot create rows for arbitrary days.
		day = p.Day(now)
	}
	if gpc && p.opt.HonorGPC {
		return Verdict{Outcome: tally.Dropped, Reason: tally.ReasonGPC, Day: day}
	}
	ne := &store.NewEvent{VisitorKey: p.Hash("visitor", ev.VisitorID), At: at}
	ne.Day = day
	conversion, ok := p.opt.Events[ev.Name]
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
	case at.Before(now.Add(-p.opt.MaxEventAge)):
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
	return store.ConsentRule{Purpose: p.opt.ConsentPurpose, MaxAge: p.opt.ConsentMaxAge,
		MaxCellsPerDay: p.opt.MaxCellsPerDay}
}

// Day is t's calendar day in rollup.timezone.
func (p *Pipeline) Day(t time.Time) tally.Day { return tally.DayOf(t, p.opt.Location) }

// Hash is the keyed hash of a value within a domain ("visitor",
// "event_id"), truncated to store.KeyLen bytes.
func (p *Pipeline) Hash(domain, v string) []byte {
	m := hmac.New(sha256.New, p.opt.Key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)[:store.KeyLen]
}
