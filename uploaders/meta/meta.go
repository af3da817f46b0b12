// Package meta sends synthetic conversions to Meta's Conversions API:
// POST {endpoint}/{api_version}/{dataset_id}/events, the access token added
// as a query parameter at send time only.
package meta

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/internal/httpx"
)

// MaxBatch is the most events Meta takes in one request.
const MaxBatch = 1000

// Windows: event_time may be at most 7 days old (62 for physical_store).
// An hour of margin keeps a request sent near the edge from failing whole.
const (
	window              = 7*24*time.Hour - time.Hour
	physicalStoreWindow = 62*24*time.Hour - time.Hour
)

// Config is what the adapter needs; cmd fills it from [uploaders.meta].
type Config struct {
	Endpoint      string
	APIVersion    string
	DatasetID     string
	ActionSource  string
	TestEventCode string
	// Events maps generic conversion names to Meta event names; unmapped
	// names are sent as they are.
	Events map[string]string
	// LimitedDataUse sets Meta's Limited Data Use flag on every event
	// ([uploaders.meta] limited_data_use): data_processing_options
	// ["LDU"], country and state 0 (Meta geolocates the event).
	LimitedDataUse bool
	// Token is the access token; empty for dry runs.
	Token   tally.Secret
	Timeout time.Duration
}

// Meta is the Conversions API uploader.
type Meta struct {
	cfg    Config
	url    string
	sender *httpx.Sender
}

var _ batch.Uploader = (*Meta)(nil)

// New returns a Meta uploader with its HTTP client built once.
func New(cfg Config) *Meta {
	u := strings.TrimRight(cfg.Endpoint, "/") + "/" + url.PathEscape(cfg.APIVersion) + "/" + url.PathEscape(cfg.DatasetID) + "/events"
	// The one place the token is attached: Graph API reads it from the
	// query. The stored URL (r.URL before this) never holds it.
	return &Meta{cfg: cfg, url: u, sender: httpx.NewSender(cfg.Timeout, cfg.Token, httpx.QueryParam("access_token"))}
}

// Spec describes Meta's limits.
func (m *Meta) Spec() batch.Spec {
	w := window
	if m.cfg.ActionSource == "physical_store" {
		w = physicalStoreWindow
	}
	return batch.Spec{Platform: tally.PlatformMeta, MaxBatch: MaxBatch, Window: w}
}

type body struct {
	Data          []event `json:"data"`
	TestEventCode string  `json:"test_event_code,omitempty"`
}

type event struct {
	EventName    string     `json:"event_name"`
	EventTime    int64      `json:"event_time"`
	ActionSource string     `json:"action_source"`
	EventID      string     `json:"event_id"`
	UserData     userData   `json:"user_data"`
	CustomData   customData `json:"custom_data"`
	// The Limited Data Use flag; all three are left out when it is off.
	DataProcessingOptions        []string `json:"data_processing_options,omitempty"`
	DataProcessingOptionsCountry *int     `json:"data_processing_options_country,omitempty"`
	DataProcessingOptionsState   *int     `json:"data_processing_options_state,omitempty"`
}

// ldu marks e with Limited Data Use. Country and state 0 ask Meta to
// geolocate the event: tally keeps no location to send.
func ldu(e *event) {
	zero := 0
	e.DataProcessingOptions = []string{"LDU"}
	e.DataProcessingOptionsCountry, e.DataProcessingOptionsState = &zero, &zero
}

// userData holds only the keyed synthetic external id Meta's schema demands:
// it is derived from the conversion's coordinates and matches no person.
type userData struct {
	ExternalID string `json:"external_id"`
}

type customData struct {
	CampaignID string `json:"campaign_id,omitempty"`
	Conversion string `json:"conversion"`
}

// Build encodes the batch as Meta's JSON body.
func (m *Meta) Build(b *batch.Batch) (*batch.Request, error) {
	out := body{Data: make([]event, len(b.Items)), TestEventCode: m.cfg.TestEventCode}
	for i, c := range b.Items {
		name := c.Conversion
		if n, ok := m.cfg.Events[c.Conversion]; ok {
			name = n
		}
		out.Data[i] = event{
			EventName: name, EventTime: c.Time.Unix(), ActionSource: m.cfg.ActionSource, EventID: c.EventID,
			UserData:   userData{ExternalID: c.ExternalID},
			CustomData: customData{CampaignID: c.Campaign, Conversion: c.Conversion},
		}
		if m.cfg.LimitedDataUse {
			ldu(&out.Data[i])
		}
	}
	return httpx.PostJSON("meta", m.url, out, nil)
}

// Send sends the request with the token and judges Meta's answer.
func (m *Meta) Send(ctx context.Context, r *batch.Request) *batch.Reply {
	sent := httpx.Count(r.Body, "data")
	return m.sender.Send(ctx, r, func(a *httpx.Answer) *batch.Reply { return judge(a, sent) })
}
