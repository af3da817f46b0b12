package linkedin_test

import (
	"bytes"
	"encoding/json"
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
		Rules: map[string]string{"booking": "12345678"}, Token: secret, Timeout: timeout})
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
		Events: func(body []byte) []string { return eventIDs(decode(body)) },
		Accept: func(tb testing.TB, w http.ResponseWriter, c uploadertest.Call) { statuses(w, c.Body, "") },
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
			{Name: "element status", Alone: true, Want: "element status 400: /conversionHappenedAt :: invalid",
				Answer: func(tb testing.TB, w http.ResponseWriter, c uploadertest.Call, bad string) []string {
					return statuses(w, c.Body, bad)
				}},
			{Name: "whole request (422)", Want: "older than 90 days",
				Answer: func(tb testing.TB, w http.ResponseWriter, c uploadertest.Call, bad string) []string {
					if bytes.Contains(c.Body, []byte(bad)) {
						uploadertest.Canned(tb, w, 422, "error_invalid_422.json")
						return nil
					}
					return statuses(w, c.Body, "")
				}},
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

// strict decodes a body, refusing a field LinkedIn's schema does not have
// and an amount that is not a string.
func strict(b []byte) (wireBody, error) {
	var w wireBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&w)
	return w, err
}

func decode(b []byte) wireBody {
	w, _ := strict(b)
	return w
}

func eventIDs(b wireBody) []string {
	var ids []string
	for _, e := range b.Elements {
		ids = append(ids, e.EventID)
	}
	return ids
}

// check is what the fake Conversions API checks of every request.
func check(c uploadertest.Call) error {
	if c.Method != http.MethodPost || c.Path != "/rest/conversionEvents" || len(c.Query) != 0 {
		return fmt.Errorf("request %s %s with %d query parameters", c.Method, c.Path, len(c.Query))
	}
	for h, want := range map[string]string{
		"Linkedin-Version": "202411", "X-Restli-Protocol-Version": "2.0.0", "X-Restli-Method": "BATCH_CREATE", "Content-Type": "application/json",
	} {
		if got := c.Header.Get(h); got != want {
			return fmt.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	b, err := strict(c.Body)
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
	for _, e := range decode(body).Elements {
		if e.EventID == bad {
			out = append(out, `{"status":400,"error":{"status":400,"message":"/conversionHappenedAt :: invalid"}}`)
			continue
		}
		out = append(out, `{"status":201}`)
		acked = append(acked, e.EventID)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"elements":[%s]}`, strings.Join(out, ","))
	return acked
}
