package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeStoresNoMarkers drives the real binary with events whose every
// identifying field carries a unique marker, then reads every byte of the
// database, its WAL and the server's logs: no marker may appear.
func TestServeStoresNoMarkers(t *testing.T) {
	dir, cfgPath := storeConfig(t, "e2e", `[intake]
allowed_origins = ["https://clinic.example"]
campaign_pattern = '^(?s:.+)$'
[privacy]
max_cells_per_visitor_day = 10 # the marked visitor converts in several cells
[log]
level = "debug"
format = "json"
`)
	srv := startServe(t, dir, nil, "--config", cfgPath)

	markers := map[string]string{}
	mark := func(name string) string {
		m := fmt.Sprintf("MK%02dX%s", len(markers), strings.ToUpper(name))
		markers[name] = m
		return m
	}
	visitor := mark("visitor")
	var answers []byte
	send := func(path string, body any, hdr map[string]string) map[string]any {
		t.Helper()
		out, answer := srv.post(t, path, body, hdr)
		answers = append(answers, answer...)
		return out
	}
	send("/v1/consent", map[string]any{"visitor_id": visitor, "purposes": map[string]bool{"advertising": true},
		"time": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "source": "cmp-one", "version": "policy-v3"}, nil)

	hdr := map[string]string{
		"User-Agent":      mark("useragent"),
		"X-Forwarded-For": "203.0.113." + mark("xff"),
		"Referer":         "https://clinic.example/oncology?name=" + mark("referer"),
		"Origin":          "https://clinic.example",
	}
	event := map[string]any{
		"event_id":        mark("eventid"),
		"event":           "appointment_booked",
		"visitor_id":      visitor,
		"source":          "facebook",
		"campaign":        "spring_24",
		"email":           mark("email") + "@example.org",
		"phone":           "+1555" + mark("phone"),
		"url":             "https://clinic.example/book?dx=" + mark("urlquery"),
		"ip":              "198.51.100." + mark("ip"),
		"user_agent":      mark("uafield"),
		mark("fieldname"): "x",
		"properties":      map[string]any{"diagnosis": mark("nested"), "deep": []any{map[string]any{"k": mark("deeper")}}},
	}
	unmapped := map[string]any{"event_id": mark("eventid2"), "event": mark("eventname"), "visitor_id": visitor}
	badCampaign := map[string]any{"event_id": mark("eventid3"), "event": "contact_form_submitted", "visitor_id": visitor,
		"campaign": mark("campaign") + "@example.org"}
	noConsent := map[string]any{"event_id": mark("eventid4"), "event": "appointment_booked", "visitor_id": mark("stranger")}
	sum := send("/v1/events", map[string]any{"events": []any{event, unmapped, badCampaign, noConsent}}, hdr)
	if sum["accepted"] != 1.0 {
		t.Fatalf("summary = %v, want 1 accepted", sum)
	}
	dropped, _ := sum["dropped"].(map[string]any)
	if dropped["unmapped_event"] != 1.0 || dropped["bad_campaign"] != 1.0 || dropped["no_consent"] != 1.0 {
		t.Fatalf("summary = %v", sum)
	}
	// Consent labels outside consent.sources and consent.versions.
	send("/v1/consent", map[string]any{"visitor_id": mark("labelvisitor"), "purposes": map[string]bool{"advertising": true},
		"source": "MRN-" + mark("consentsource"), "version": "DOB-" + mark("consentversion")}, nil)
	// Requests refused whole, and routes that do not exist: their answers
	// and log lines name fields, never values, paths or queries.
	refused := func(method, path, body string) {
		t.Helper()
		code, rb := srv.call(t, method, path, body, nil)
		answers = append(answers, rb...)
		if code == 200 && method == http.MethodPost && strings.HasPrefix(path, "/v1/consent") {
			t.Errorf("%s %s: 200 %s, want it refused", method, path, rb)
		}
	}
	refused(http.MethodPost, "/v1/consent", `{"visitor_id":"`+mark("badconsentvisitor")+`","purposes":{"advertising":"`+mark("badpurpose")+`"}}`)
	refused(http.MethodPost, "/v1/consent", `{"visitor_id":"`+mark("brokenconsent"))
	refused(http.MethodPost, "/v1/events", `{"events":[{"event_id":"`+mark("brokenevent"))
	refused(http.MethodPost, "/v1/events?email="+mark("querystring"), `{"events":[{"event_id":"e","event":"appointment_booked","visitor_id":"`+
		mark("badtimevisitor")+`","time":"`+mark("badtime")+`"}]}`)
	refused(http.MethodGet, "/v1/"+mark("path")+"?q="+mark("pathquery"), "")
	refused(http.MethodGet, "/metrics", "")
	refused(http.MethodGet, "/healthz", "")
	// Campaigns dressed so that ASCII-only checks miss them: the pattern
	// allows anything, the shape checks must refuse them.
	for i, c := range []string{"７７７７７７７", "555_123_4567", "＠example.org", "%40example.org", "\u2800"} {
		b := fmt.Sprintf(`{"events":[{"event_id":"%s","event":"appointment_booked","visitor_id":"%s","source":"facebook","campaign":"%s%s"}]}`,
			mark(fmt.Sprintf("dressedid%d", i)), visitor, mark(fmt.Sprintf("dressedcampaign%d", i)), c)
		refused(http.MethodPost, "/v1/events", b)
	}

	// The same markers through the file path: a CSV whose header holds a marker.
	csvPath := filepath.Join(dir, "events.csv")
	csv := fmt.Sprintf("event_id,event,visitor_id,source,%s\n%s,appointment_booked,%s,google,%s\n",
		mark("csvheader"), mark("csvid"), visitor, mark("csvvalue"))
	if err := os.WriteFile(csvPath, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}

	dbFiles := func() map[string][]byte {
		out := map[string][]byte{}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if b, err := os.ReadFile(filepath.Join(dir, "e2e.db"+suffix)); err == nil {
				out["e2e.db"+suffix] = b
			}
		}
		return out
	}
	live := dbFiles()
	if len(live["e2e.db-wal"]) == 0 {
		t.Fatal("no WAL file while serving; the test would not read it")
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve exit after SIGTERM: %v, want 0\n%s", err, srv.logs.Bytes())
	}
	code, out, errOut := runIn(t, dir, nil, "--config", cfgPath, "ingest", csvPath)
	ingestOut := []byte(out + errOut)
	if code != 0 || !strings.Contains(out, "accepted 1") {
		t.Fatalf("ingest: exit %d\n%s", code, ingestOut)
	}

	sources := map[string][]byte{"serve log": srv.logs.Bytes(), "ingest output": ingestOut, "answers": answers}
	for name, b := range live {
		sources["live "+name] = b
	}
	for name, b := range dbFiles() {
		sources[name] = b
	}
	for src, b := range sources {
		for field, m := range markers {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("marker of %s found in %s", field, src)
			}
		}
	}
}
