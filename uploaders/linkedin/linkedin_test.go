package linkedin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// Build encodes a Rest.li BATCH_CREATE: the rule's URN, unix milliseconds,
// a zero value whose amount is a string, and a user with an empty userIds
// list and only the synthetic external id.
func TestBuild(t *testing.T) {
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	req, err := newLinkedIn("http://linkedin.test/", tally.NewSecret("tok-9f1"), 0).Build(&batch.Batch{Items: []batch.Conversion{
		{Campaign: "555", Conversion: "booking", EventID: "e1", ExternalID: "x1", Time: at},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL != "http://linkedin.test/rest/conversionEvents" {
		t.Errorf("request %s %s", req.Method, req.URL)
	}
	for h, want := range map[string]string{
		"Linkedin-Version": "202411", "X-Restli-Protocol-Version": "2.0.0", "X-Restli-Method": "BATCH_CREATE", "Content-Type": "application/json",
	} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	b, err := strict(req.Body)
	if err != nil || len(b.Elements) != 1 {
		t.Fatalf("body %s: %v", req.Body, err)
	}
	e := b.Elements[0]
	if e.Conversion != "urn:lla:llaPartnerConversion:12345678" || e.ConversionHappenedAt != at.UnixMilli() || e.EventID != "e1" {
		t.Errorf("element = %+v", e)
	}
	if e.ConversionValue.Amount != "0" || e.ConversionValue.CurrencyCode != "USD" {
		t.Errorf("value = %+v", e.ConversionValue)
	}
	if e.User.UserIDs == nil || len(*e.User.UserIDs) != 0 || len(e.User.ExternalIDs) != 1 || e.User.ExternalIDs[0] != "x1" {
		t.Errorf("user = %+v, want userIds [] and one externalId", e.User)
	}
	if !strings.Contains(string(req.Body), `"userIds":[]`) {
		t.Error("userIds must be an empty list, not null")
	}
	if strings.Contains(string(req.Body)+req.URL+req.Header.Get("Authorization"), "tok-9f1") {
		t.Error("the request holds the token before Send")
	}
}

func TestBuildWithoutRule(t *testing.T) {
	l := newLinkedIn("http://x", tally.Secret{}, 0)
	_, err := l.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "lead", Time: time.Now()}}})
	if err == nil || !strings.Contains(err.Error(), `"lead"`) {
		t.Errorf("err = %v", err)
	}
}
