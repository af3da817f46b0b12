// Package linkedin sends synthetic conversions to LinkedIn's Conversions
// API: POST {endpoint}/rest/conversionEvents as a Rest.li BATCH_CREATE,
// the token in the Authorization header.
package linkedin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/internal/httpx"
)

// MaxBatch is the most conversions one BATCH_CREATE carries.
const MaxBatch = 5000

// window: events at most 90 days old, with a day of margin.
const window = 89 * 24 * time.Hour

// Config is what the adapter needs; cmd fills it from [uploaders.linkedin].
type Config struct {
	Endpoint string
	Version  string // LinkedIn-Version, YYYYMM
	// Rules maps generic conversion names to conversion rule ids.
	Rules   map[string]string
	Token   tally.Secret // empty for dry runs
	Timeout time.Duration
}

// LinkedIn is the Conversions API uploader.
type LinkedIn struct {
	cfg    Config
	url    string
	header http.Header // Rest.li's batch headers, the same on every request
	sender *httpx.Sender
}

var _ batch.Uploader = (*LinkedIn)(nil)

// New returns a LinkedIn uploader with its HTTP client built once.
func New(cfg Config) *LinkedIn {
	header := http.Header{
		"Linkedin-Version":          {cfg.Version},
		"X-Restli-Protocol-Version": {"2.0.0"},
		"X-Restli-Method":           {"BATCH_CREATE"},
	}
	// The one place the token is attached.
	return &LinkedIn{cfg: cfg, url: strings.TrimRight(cfg.Endpoint, "/") + "/rest/conversionEvents", header: header,
		sender: httpx.NewSender(cfg.Timeout, cfg.Token, httpx.Header("Authorization", "Bearer "))}
}

// Spec describes LinkedIn's limits.
func (l *LinkedIn) Spec() batch.Spec {
	return batch.Spec{Platform: tally.PlatformLinkedIn, MaxBatch: MaxBatch, Window: window}
}

type body struct {
	Elements []element `json:"elements"`
}

type element struct {
	Conversion           string `json:"conversion"`
	ConversionHappenedAt int64  `json:"conversionHappenedAt"`
	ConversionValue      value  `json:"conversionValue"`
	EventID              string `json:"eventId"`
	User                 user   `json:"user"`
}

type value struct {
	CurrencyCode string `json:"currencyCode"`
	Amount       string `json:"amount"`
}

// user carries no person: userIds stays empty and externalIds holds the
// keyed synthetic id.
type user struct {
	UserIDs     []string `json:"userIds"`
	ExternalIDs []string `json:"externalIds"`
}

// Build encodes the batch; a conversion without a rule cannot be sent.
func (l *LinkedIn) Build(b *batch.Batch) (*batch.Request, error) {
	out := body{Elements: make([]element, len(b.Items))}
	for i, c := range b.Items {
		rule, ok := l.cfg.Rules[c.Conversion]
		if !ok {
			return nil, fmt.Errorf("linkedin: no conversion rule for conversion %q (set uploaders.linkedin.rules.%s)", c.Conversion, c.Conversion)
		}
		out.Elements[i] = element{
			Conversion:           "urn:lla:llaPartnerConversion:" + rule,
			ConversionHappenedAt: c.Time.UnixMilli(),
			ConversionValue:      value{CurrencyCode: "USD", Amount: "0"},
			EventID:              c.EventID,
			User:                 user{UserIDs: []string{}, ExternalIDs: []string{c.ExternalID}},
		}
	}
	return httpx.PostJSON("linkedin", l.url, out, l.header)
}

// Send sends the request with the token and judges LinkedIn's answer.
func (l *LinkedIn) Send(ctx context.Context, r *batch.Request) *batch.Reply {
	sent := httpx.Count(r.Body, "elements")
	return l.sender.Send(ctx, r, func(a *httpx.Answer) *batch.Reply { return judge(a, sent) })
}
