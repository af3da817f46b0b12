package linkedin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/linkedin"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

func TestConformance(t *testing.T) { uploadertest.Conformance(t, adapter()) }

func newLinkedIn(endpoint string, secret tally.Secret, timeout time.Duration) batch.Uploader {
	return linkedin.New(linkedin.Config{Endpoint: endpoint, Version: "202411",
		Rules: map[string]string{"booking": "12345678", "call": "87654321"}, Token: secret, Timeout: timeout})
}

// adapter describes LinkedIn's Conversions API to the conformance suite.
// LinkedIn refuses an event either alone, as one element status in a 200,
// or for the whole request (a 422), which the engine bisects.
func adapter() uploadertest.Adapter {
	return uploadertest.Adapter{
		New: newLinkedIn,
		Credential: func(c uploadertest.Call) string {
			tok, _ := strings.CutPrefix(c.Header.Get("Authorization"), "Bearer ")
			return tok
		},
		Check:  check,
		Events: events,
		Accept: func(_ testing.TB, w http.ResponseWriter, c uploadertest.Call) []string {
			return statuses(w, c.Body, "")
		},
		Transient: []uploadertest.Answer{
			{Status: 503, File: "error_503.json", Header: []string{"Retry-After", "2"}, Want: "Service is temporarily unavailable"},
			{Status: 503, File: "error_503.json", Want: "HTTP 503"},
			// A 200 that carries a Rest.li error acknowledges nothing.
			{Status: 200, File: "error_500_in_200.json", Want: "Internal Server Error"},
		},
		RateLimit: []uploadertest.Answer{
			{Status: 429, File: "error_429.json", Header: []string{"Retry-After", "6"}, Want: "throttle"},
		},
		Reject: []uploadertest.Rejection{
			{Name: "element status", Alone: true, Answer: uploadertest.Answer{Want: "element status 400: /conversionHappenedAt :: invalid"},
				Respond: func(_ testing.TB, w http.ResponseWriter, c uploadertest.Call, bad string) []string {
					return statuses(w, c.Body, bad)
				}},
			{Name: "whole request (422)", Answer: uploadertest.Answer{Status: 422, File: "error_invalid_422.json", Want: "older than 90 days"}},
		},
		// No split can give a conversion the member id LinkedIn asks for.
		Permanent: []uploadertest.Answer{
			{Status: 422, File: "error_no_user_422.json", Want: "conversion rejected for having no user id"},
		},
		Refused: []uploadertest.Answer{
			{Status: 401, File: "error_401.json", Want: "HTTP 401: Invalid access token"},
			{Status: 200, File: "error_401_in_200.json", Want: "Invalid access token"},
		},
	}
}

// Build encodes a Rest.li BATCH_CREATE: each rule's URN, unix
// milliseconds, a zero value whose amount is a string, and a user with an
// empty userIds list and only the synthetic external id.
func TestBuild(t *testing.T) {
	req := uploadertest.Builds(t, adapter(), "http://linkedin.test/", `{"elements": [
		{"conversion": "urn:lla:llaPartnerConversion:12345678", "conversionHappenedAt": 1795240800000, "eventId": "e1",
			"conversionValue": {"currencyCode": "USD", "amount": "0"}, "user": {"userIds": [], "externalIds": ["x1"]}},
		{"conversion": "urn:lla:llaPartnerConversion:87654321", "conversionHappenedAt": 1795240800000, "eventId": "e2",
			"conversionValue": {"currencyCode": "USD", "amount": "0"}, "user": {"userIds": [], "externalIds": ["x2"]}}]}`)
	if req.URL != "http://linkedin.test/rest/conversionEvents" || req.Header.Get("Authorization") != "" {
		t.Errorf("URL %s, headers %v", req.URL, req.Header)
	}
	for h, want := range restli {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

func TestBuildWithoutRule(t *testing.T) {
	l := newLinkedIn("http://x", tally.Secret{}, 0)
	_, err := l.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "lead", Time: uploadertest.Now}}})
	if err == nil || !strings.Contains(err.Error(), `"lead"`) {
		t.Errorf("err = %v", err)
	}
}

type wireBody struct {
	Elements []struct {
		Conversion           string `json:"conversion"`
		ConversionHappenedAt int64  `json:"conversionHappenedAt"`
		ConversionValue      struct {
			CurrencyCode string `json:"currencyCode"`
			Amount       string `json:"amount"`
		} `json:"conversionValue"`
		EventID string `json:"eventId"`
		User    struct {
			UserIDs     *[]string `json:"userIds"`
			ExternalIDs []string  `json:"externalIds"`
		} `json:"user"`
	} `json:"elements"`
}

// events returns the event ids of a request body.
func events(body []byte) []string { return uploadertest.Values(body, "elements", "eventId") }

// restli are the headers every request carries: the API version and Rest.li's.
var restli = map[string]string{"Linkedin-Version": "202411", "X-Restli-Protocol-Version": "2.0.0", "X-Restli-Method": "BATCH_CREATE"}

// check is what the fake Conversions API checks of every request.
func check(c uploadertest.Call) error {
	if c.Path != "/rest/conversionEvents" || len(c.Query) != 0 {
		return fmt.Errorf("request to %s with %d query parameters", c.Path, len(c.Query))
	}
	for h, want := range restli {
		if got := c.Header.Get(h); got != want {
			return fmt.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	b, err := uploadertest.Strict[wireBody](c.Body)
	if err != nil || len(b.Elements) == 0 || len(b.Elements) > linkedin.MaxBatch {
		return fmt.Errorf("body of %d elements: %v", len(b.Elements), err)
	}
	for _, e := range b.Elements {
		if !strings.HasPrefix(e.Conversion, "urn:lla:llaPartnerConversion:") || e.ConversionHappenedAt <= 0 || e.EventID == "" ||
			e.ConversionValue.CurrencyCode == "" || e.ConversionValue.Amount == "" || e.User.UserIDs == nil || len(e.User.ExternalIDs) != 1 {
			return fmt.Errorf("element lacks a required field: %+v", e)
		}
	}
	return nil
}

// statuses answers 200 with one element status per conversion: 201, or an
// element error for the event bad. It returns the acknowledged event ids.
func statuses(w http.ResponseWriter, body []byte, bad string) []string {
	var out, acked []string
	for _, id := range events(body) {
		if id == bad {
			out = append(out, `{"status":400,"error":{"status":400,"message":"/conversionHappenedAt :: invalid"}}`)
			continue
		}
		out = append(out, `{"status":201}`)
		acked = append(acked, id)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"elements":[%s]}`, strings.Join(out, ","))
	return acked
}
