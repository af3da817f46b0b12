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
	// MaxCellsPerVisitorDay is privacy.max_cells_per_visitor_day.
	MaxCellsPerVisitorDay int
	// ConsentPurpose, ConsentMaxAge and HonorGPC are consent.purpose,
	// consent.max_age and consent.honor_gpc.
	ConsentPurpose string
	ConsentMaxAge  time.Duration
	HonorGPC       bool
	// RequireSensitive is consent.require_sensitive: a grant also needs
	// health_data. TCFPurposes is consent.tcf_purposes: the TCF purposes
	// a TC string must consent to for a grant.
	RequireSensitive bool
	TCFPurposes      []int
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

// Pipeline runs the checks that need no database and keys what the store
// may see. It holds no per-person state: what it returns is a Candidate
// carrying only a day, facts and keyed hashes.
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

// Candidate is a decoded event as decide sees it: what the checks that need
// no database found, and keyed hashes. It holds nothing that identifies a
// person and lives only in memory until decide has judged it.
type Candidate struct {
	// Day is the day the event counts on: the day of At, or the day
	// received when At is out of range (so a forged time cannot create
	// rows for arbitrary days).
	Day tally.Day
	// At is the event time; consent must hold at that instant.
	At time.Time
	// GPC is set when the request carried Sec-GPC and consent.honor_gpc
	// is on. Nothing else is computed then, not even the visitor's hash.
	GPC bool
	// Withdrawn is set when the event's own consent strings withdraw
	// consent: it is no_consent whatever the stored history says.
	Withdrawn bool
	// The checks that need no database and failed: an unmapped event
	// name, a campaign refused, a time ahead of the clock or too old.
	Unmapped, BadCampaign, Future, TooOld bool
	// VisitorKey is the keyed hash of the visitor id: it looks up consent
	// and, keyed again with the day's salt, marks the visitor's place in
	// the cell.
	VisitorKey []byte
	// Cell and EventKey are set only when none of the checks above
	// failed: a dropped event carries nothing but its day. EventKey, the
	// keyed hash of the event id, is never stored: the store keys it
	// again with the day's salt, so once the day is sealed a stored key
	// can no longer be matched to an event id, even by whoever holds the
	// permanent key.
	Cell     tally.Cell
	EventKey []byte
}

// Candidate runs every check that needs no database on ev and returns it
// for decide, which applies them in order after consent. gpc reports the
// request's Sec-GPC header.
func (p *Pipeline) Candidate(ev Event, gpc bool) Candidate {
	now := p.Now()
	at := ev.Time
	if at.IsZero() {
		at = now
	}
	c := Candidate{Day: p.Day(at), At: at, Future: at.After(now.Add(futureSkew)), TooOld: at.Before(now.Add(-p.opt.MaxEventAge))}
	if c.Future || c.TooOld {
		c.Day = p.Day(now)
	}
	if gpc && p.opt.HonorGPC {
		c.GPC = true
		return c
	}
	c.VisitorKey = p.Hash("visitor", ev.VisitorID)
	conversion, mapped := p.opt.Events[ev.Name]
	c.Unmapped = !mapped
	c.BadCampaign = ev.Campaign != "" && !p.campaignAllowed(ev.Campaign)
	if c.Unmapped || c.BadCampaign || c.Future || c.TooOld {
		return c
	}
	platform, known := p.sources[strings.ToLower(ev.Source)]
	if !known {
		platform = tally.PlatformNone
	}
	c.Cell = tally.Cell{Day: c.Day, Platform: platform, Campaign: ev.Campaign, Conversion: conversion}
	c.EventKey = p.Hash("event_id", ev.EventID)
	return c
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

// Rules are the settings the writer's decide applies with the database.
func (p *Pipeline) Rules() Rules {
	return Rules{ConsentPurpose: p.opt.ConsentPurpose, MaxConsentAge: p.opt.ConsentMaxAge, RequireSensitive: p.opt.RequireSensitive,
		MaxCellsPerDay: p.opt.MaxCellsPerDay, MaxCellsPerVisitorDay: p.opt.MaxCellsPerVisitorDay}
}

// Day is t's calendar day in rollup.timezone.
func (p *Pipeline) Day(t time.Time) tally.Day { return tally.DayOf(t, p.opt.Location) }

// Hash is the keyed hash of a value within a domain ("visitor",
// "event_id"), truncated to store.KeyLen bytes.
func (p *Pipeline) Hash(domain, v string) []byte { return keyedHash(p.opt.Key, domain, v) }

// VisitorKey is the keyed hash a visitor id is stored under, for the
// subject-request commands that look a visitor up without an intake.
func VisitorKey(key []byte, visitorID string) []byte { return keyedHash(key, "visitor", visitorID) }

func keyedHash(key []byte, domain, v string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)[:store.KeyLen]
}
