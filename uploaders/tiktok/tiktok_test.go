package tiktok_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// Build encodes TikTok's event schema: the configured event source, mapped
// event names, unix seconds, only the synthetic external_id in user, and
// the campaign and generic conversion in properties.
func TestBuild(t *testing.T) {
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	req, err := newTikTok("http://tiktok.test/", tally.NewSecret("tok-9f1"), 0).Build(&batch.Batch{Items: []batch.Conversion{
		{Campaign: "1790000000000", Conversion: "booking", EventID: "e1", ExternalID: "x1", Time: at},
		{Conversion: "call", EventID: "e2", ExternalID: "x2", Time: at},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL != "http://tiktok.test/open_api/v1.3/event/track/" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	b, err := strict(req.Body)
	if err != nil || b.EventSource != "offline" || b.EventSourceID != "7301234567890" || b.TestEventCode != "TEST42" || len(b.Data) != 2 {
		t.Fatalf("body %s: %v", req.Body, err)
	}
	e := b.Data[0]
	if e.Event != "Schedule" || e.EventTime != at.Unix() || e.EventID != "e1" {
		t.Errorf("event = %+v", e)
	}
	if len(e.User) != 1 || e.User["external_id"] != "x1" {
		t.Errorf("user = %v, want only the synthetic external_id", e.User)
	}
	if len(e.Properties) != 2 || e.Properties["campaign_id"] != "1790000000000" || e.Properties["conversion"] != "booking" {
		t.Errorf("properties = %v", e.Properties)
	}
	if e := b.Data[1]; e.Event != "call" || len(e.Properties) != 1 {
		t.Errorf("unmapped event without campaign = %+v", e)
	}
	if strings.Contains(string(req.Body)+req.URL+req.Header.Get("Access-Token"), "tok-9f1") {
		t.Error("the request holds the token before Send")
	}
}
