// Package tiktok sends synthetic conversions to TikTok's Events API 2.0:
// POST {endpoint}/open_api/v1.3/event/track/ with the Access-Token header.
package tiktok

import (
	"context"
	"strings"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/internal/httpx"
)

// MaxBatch is the most events one request carries.
const MaxBatch = 1000

// window: offline events at most 28 days old, with a day of margin.
const window = 27 * 24 * time.Hour

// Config is what the adapter needs; cmd fills it from [uploaders.tiktok].
type Config struct {
	Endpoint      string
	EventSource   string // offline, web, crm or app
	EventSourceID string
	TestEventCode string
	Events        map[string]string
	Token         tally.Secret // empty for dry runs
	Timeout       time.Duration
}

// TikTok is the Events API uploader.
type TikTok struct {
	cfg    Config
	url    string
	sender *httpx.Sender
}

var _ batch.Uploader = (*TikTok)(nil)

// New returns a TikTok uploader with its HTTP client built once.
func New(cfg Config) *TikTok {
	// The one place the token is attached: a header, never the URL.
	return &TikTok{cfg: cfg, url: strings.TrimRight(cfg.Endpoint, "/") + "/open_api/v1.3/event/track/",
		sender: httpx.NewSender(cfg.Timeout, cfg.Token, httpx.Header("Access-Token", ""))}
}

// Spec describes TikTok's limits.
func (t *TikTok) Spec() batch.Spec {
	return batch.Spec{Platform: tally.PlatformTikTok, MaxBatch: MaxBatch, Window: window}
}

type body struct {
	EventSource   string  `json:"event_source"`
	EventSourceID string  `json:"event_source_id"`
	TestEventCode string  `json:"test_event_code,omitempty"`
	Data          []event `json:"data"`
}

type event struct {
	Event      string     `json:"event"`
	EventTime  int64      `json:"event_time"`
	EventID    string     `json:"event_id"`
	User       user       `json:"user"`
	Properties properties `json:"properties"`
}

// user holds only the keyed synthetic external id the schema wants.
type user struct {
	ExternalID string `json:"external_id"`
}

type properties struct {
	CampaignID string `json:"campaign_id,omitempty"`
	Conversion string `json:"conversion"`
}

// Build encodes the batch as TikTok's JSON body.
func (t *TikTok) Build(b *batch.Batch) (*batch.Request, error) {
	out := body{EventSource: t.cfg.EventSource, EventSourceID: t.cfg.EventSourceID, TestEventCode: t.cfg.TestEventCode,
		Data: make([]event, len(b.Items))}
	for i, c := range b.Items {
		name := c.Conversion
		if n, ok := t.cfg.Events[c.Conversion]; ok {
			name = n
		}
		out.Data[i] = event{Event: name, EventTime: c.Time.Unix(), EventID: c.EventID,
			User: user{ExternalID: c.ExternalID}, Properties: properties{CampaignID: c.Campaign, Conversion: c.Conversion}}
	}
	return httpx.PostJSON("tiktok", t.url, out, nil)
}

// Send sends the request with the token and judges TikTok's answer.
func (t *TikTok) Send(ctx context.Context, r *batch.Request) *batch.Reply {
	return t.sender.Send(ctx, r, judge)
}
