package intake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/store"
)

// futureSkew is how far ahead of the clock an event time may be.
const futureSkew = 5 * time.Minute

// ConsentLookup finds a visitor's latest consent record at or before t.
type ConsentLookup interface {
	ConsentAt(ctx context.Context, visitorKey []byte, purpose string, t time.Time) (store.Consent, bool, error)
}

// Pipeline runs the checks of DESIGN.md in order. It holds no per-person
// state: everything it decides is either a drop counted by reason or a
// store.NewEvent carrying only a cell and keyed hashes.
type Pipeline struct {
	cfg      *config.Config
	key      []byte
	consents ConsentLookup
	loc      *time.Location
	campaign *regexp.Regexp
	sources  map[string]string
	Now      func() time.Time
}

// NewPipeline builds a pipeline from a validated config and the hash key.
func NewPipeline(cfg *config.Config, key []byte, consents ConsentLookup) (*Pipeline, error) {
	loc, err := time.LoadLocation(cfg.Rollup.Timezone)
	if err != nil {
		return nil, fmt.Errorf("intake: timezone: %w", err)
	}
	re, err := regexp.Compile(cfg.Intake.CampaignPattern)
	if err != nil {
		return nil, fmt.Errorf("intake: campaign pattern: %w", err)
	}
	sources := make(map[string]string, len(cfg.Sources))
	for k, v := range cfg.Sources {
		sources[strings.ToLower(k)] = v
	}
	return &Pipeline{cfg: cfg, key: key, consents: consents, loc: loc, campaign: re, sources: sources, Now: time.Now}, nil
}

// Verdict is the stateless part of an event's fate: either a decided drop
// (Outcome set) or an event for the writer to judge (Event set).
type Verdict struct {
	Outcome, Reason string
	Day             string
	Event           *store.NewEvent
}

// Check runs every check up to the event-time checks. gpc reports the
// request's Sec-GPC header. Errors are store failures, never bad input.
func (p *Pipeline) Check(ctx context.Context, ev Event, gpc bool) (Verdict, error) {
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
	drop := func(reason string) Verdict {
		return Verdict{Outcome: store.OutcomeDropped, Reason: reason, Day: day}
	}
	if gpc && p.cfg.Consent.HonorGPC {
		return drop(store.ReasonGPC), nil
	}
	visitorKey := p.Hash("visitor", ev.VisitorID)
	ok, err := p.consented(ctx, visitorKey, at)
	if err != nil {
		return Verdict{}, err
	}
	if !ok {
		return drop(store.ReasonNoConsent), nil
	}
	conversion, ok := p.cfg.Events[ev.Name]
	if !ok {
		return drop(store.ReasonUnmappedEvent), nil
	}
	platform, ok := p.sources[strings.ToLower(ev.Source)]
	if !ok {
		platform = config.PlatformNone
	}
	if ev.Campaign != "" && !p.campaign.MatchString(ev.Campaign) {
		return drop(store.ReasonBadCampaign), nil
	}
	if at.After(now.Add(futureSkew)) {
		return drop(store.ReasonFuture), nil
	}
	if at.Before(now.Add(-p.cfg.Intake.MaxEventAge.D())) {
		return drop(store.ReasonTooOld), nil
	}
	return Verdict{Day: day, Event: &store.NewEvent{
		Cell:       store.Cell{Day: day, Platform: platform, Campaign: ev.Campaign, Conversion: conversion},
		DedupKey:   p.Hash("event_id", ev.EventID),
		VisitorKey: visitorKey,
	}}, nil
}

// consented reports whether the visitor's latest record at or before t is
// a grant younger than consent.max_age. No record means no.
func (p *Pipeline) consented(ctx context.Context, visitorKey []byte, t time.Time) (bool, error) {
	c, ok, err := p.consents.ConsentAt(ctx, visitorKey, p.cfg.Consent.Purpose, t)
	if err != nil {
		return false, fmt.Errorf("intake: consent: %w", err)
	}
	return ok && c.Granted && t.Sub(c.Time) <= p.cfg.Consent.MaxAge.D(), nil
}

// Day is t's calendar day in rollup.timezone.
func (p *Pipeline) Day(t time.Time) string { return t.In(p.loc).Format("2006-01-02") }

// Hash is the keyed hash of a value within a domain ("visitor",
// "event_id"), truncated to store.KeyLen bytes.
func (p *Pipeline) Hash(domain, v string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)[:store.KeyLen]
}
