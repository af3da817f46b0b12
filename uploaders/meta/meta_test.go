package meta_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/uploaders/meta"
)

// Build encodes Meta's event schema: mapped event names, unix seconds, the
// configured action source, only the synthetic external_id in user_data,
// and the campaign and generic conversion in custom_data.
func TestBuild(t *testing.T) {
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	u := newMeta("http://graph.test/", tally.NewSecret("tok-9f1"), 0)
	req, err := u.Build(&batch.Batch{Items: []batch.Conversion{
		{Campaign: "cmp_42", Conversion: "booking", EventID: "e1", ExternalID: "x1", Time: at},
		{Conversion: "call", EventID: "e2", ExternalID: "x2", Time: at},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL != "http://graph.test/v21.0/123456789/events" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	b, err := strict(req.Body)
	if err != nil || len(b.Data) != 2 || b.TestEventCode != "TEST123" {
		t.Fatalf("body %s: %v", req.Body, err)
	}
	e := b.Data[0]
	if e.EventName != "AppointmentRequest" || e.EventTime != at.Unix() || e.ActionSource != "other" || e.EventID != "e1" {
		t.Errorf("event = %+v", e)
	}
	if len(e.UserData) != 1 || e.UserData["external_id"] != "x1" {
		t.Errorf("user_data = %v, want only the synthetic external_id", e.UserData)
	}
	if len(e.CustomData) != 2 || e.CustomData["campaign_id"] != "cmp_42" || e.CustomData["conversion"] != "booking" {
		t.Errorf("custom_data = %v", e.CustomData)
	}
	if e := b.Data[1]; e.EventName != "call" || len(e.CustomData) != 1 {
		t.Errorf("unmapped event without campaign = %+v", e)
	}
	if strings.Contains(string(req.Body)+req.URL, "tok-9f1") {
		t.Error("the request holds the token before Send")
	}
}

func TestSpecWindow(t *testing.T) {
	if w := newMeta("http://x", tally.Secret{}, 0).Spec().Window; w >= 7*24*time.Hour || w < 6*24*time.Hour {
		t.Errorf("window = %v", w)
	}
	ps := meta.New(meta.Config{Endpoint: "http://x", ActionSource: "physical_store"})
	if w := ps.Spec().Window; w < 61*24*time.Hour {
		t.Errorf("physical_store window = %v", w)
	}
}
