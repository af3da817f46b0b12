// Package google sends synthetic conversions to GA4 through the
// Measurement Protocol: POST {endpoint}/mp/collect?measurement_id=ID, the
// api_secret added to the query only at send time. Google Ads' own upload
// APIs demand a click id or hashed contact data on every conversion, so
// GA4 is the only identifier-free Google path.
package google

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/internal/httpx"
)

// MaxBatch is the most events one Measurement Protocol request carries.
const MaxBatch = 25

// window: timestamp_micros at most 72 hours in the past, with an hour of
// margin.
const window = 71 * time.Hour

// Config is what the adapter needs; cmd fills it from [uploaders.google].
type Config struct {
	Endpoint      string
	MeasurementID string
	Events        map[string]string
	// Validate sends each request to the debug endpoint first and sends it
	// for real only when GA4 reports no validation message.
	Validate bool
	Secret   tally.Secret // api_secret; empty for dry runs
	Timeout  time.Duration
}

// Google is the GA4 Measurement Protocol uploader.
type Google struct {
	cfg      Config
	url      string
	debugURL string
	sender   *httpx.Sender
}

var _ batch.Uploader = (*Google)(nil)

// New returns a GA4 uploader with its HTTP client built once.
func New(cfg Config) *Google {
	base := strings.TrimRight(cfg.Endpoint, "/")
	q := "?measurement_id=" + url.QueryEscape(cfg.MeasurementID)
	// The one place the api_secret is attached.
	return &Google{cfg: cfg, url: base + "/mp/collect" + q, debugURL: base + "/debug/mp/collect" + q,
		sender: httpx.NewSender(cfg.Timeout, cfg.Secret, httpx.QueryParam("api_secret"))}
}

// Spec describes GA4's limits. GA4 has no dedup, so each request carries
// one cell's chunk under one synthetic client_id, the same bytes on retry,
// and a request whose outcome is unknown is never retried on its own
// (AtMostOnce).
func (g *Google) Spec() batch.Spec {
	return batch.Spec{Platform: tally.PlatformGoogle, MaxBatch: MaxBatch, Window: window, PerCell: true, AtMostOnce: true}
}

type body struct {
	ClientID        string  `json:"client_id"`
	TimestampMicros int64   `json:"timestamp_micros"`
	Consent         consent `json:"consent"`
	Events          []event `json:"events"`
}

// consent is the Measurement Protocol's request-level consent, which
// covers every event of the request. tally always denies both: a
// synthetic conversion is for measurement, never for ad targeting or
// personalisation.
type consent struct {
	AdUserData        string `json:"ad_user_data"`
	AdPersonalization string `json:"ad_personalization"`
}

// denied is the consent every request carries.
var denied = consent{AdUserData: "DENIED", AdPersonalization: "DENIED"}

type event struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params"`
}

// Build encodes the batch after checking GA4's limits locally: the collect
// endpoint answers 2xx even to malformed events.
func (g *Google) Build(b *batch.Batch) (*batch.Request, error) {
	if len(b.Items) == 0 || len(b.Items) > MaxBatch {
		return nil, fmt.Errorf("google: %d events in one request (1 to %d)", len(b.Items), MaxBatch)
	}
	out := body{ClientID: b.ChunkID, TimestampMicros: b.Items[0].Time.UnixMicro(), Consent: denied, Events: make([]event, len(b.Items))}
	for i, c := range b.Items {
		name := c.Conversion
		if n, ok := g.cfg.Events[c.Conversion]; ok {
			name = n
		}
		params := map[string]string{"conversion": c.Conversion, "tally_event_id": c.EventID}
		if c.Campaign != "" {
			params["campaign_id"] = c.Campaign
		}
		if err := validEvent(name, params); err != nil {
			return nil, err
		}
		out.Events[i] = event{Name: name, Params: params}
	}
	req, err := httpx.PostJSON("google", g.url, out, nil)
	if err == nil && len(req.Body) >= maxBody {
		return nil, fmt.Errorf("google: request body %d bytes, GA4 takes under %d", len(req.Body), maxBody)
	}
	return req, err
}

// Send sends the request (after the debug endpoint when Validate is set)
// and judges the answer.
func (g *Google) Send(ctx context.Context, r *batch.Request) *batch.Reply {
	if g.cfg.Validate {
		dbg := *r
		dbg.URL = g.debugURL
		a := g.sender.Do(ctx, &dbg)
		if a.Err != "" {
			rep := a.Reply()
			rep.Unknown = false // the debug endpoint counts nothing
			return rep
		}
		if rep := judgeValidation(a); rep != nil {
			return rep
		}
	}
	a := g.sender.Do(ctx, r)
	if a.Err != "" {
		return a.Reply()
	}
	rep := &batch.Reply{Status: a.Status, Body: a.Body, RetryAfter: a.RetryAfter}
	switch {
	case a.Status >= 200 && a.Status < 300:
		rep.Class = batch.OK
	case httpx.Transient(a.Status):
		rep.Class, rep.Message = batch.Retry, fmt.Sprintf("google: HTTP %d: %s", a.Status, httpx.Excerpt(a.Body, 200))
		// A 5xx may come after GA4 counted the events; 408 and 429 say
		// they were not taken.
		rep.Unknown = a.Status >= 500
	default:
		rep.Class, rep.Message = batch.Fatal, fmt.Sprintf("google: HTTP %d: %s", a.Status, httpx.Excerpt(a.Body, 200))
	}
	return rep
}
