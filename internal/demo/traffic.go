package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/store"
)

// demoSent counts what the demo posted.
type demoSent struct{ events, consents int }

// importConsents records the sample consents the way `tally consent
// import` does. They are ten days old: POST /v1/consent, a browser's
// callback, takes a choice from the moment it arrives and could not
// consent the sample days' events.
func importConsents(ctx context.Context, p Pieces, db *store.DB, now time.Time) (int, error) {
	in, err := p.Intake(ctx, db)
	if err != nil {
		return 0, err
	}
	defer in.Writer.Close()
	var recs []store.Consent
	for _, c := range demoConsents(now) {
		raw, err := json.Marshal(c)
		if err != nil {
			return 0, err
		}
		ci, err := intake.DecodeConsent(raw)
		if err != nil {
			return 0, err
		}
		rs, err := in.Pipeline.ConsentRecords(ci, false)
		if err != nil {
			return 0, err
		}
		recs = append(recs, rs...)
	}
	if _, err := db.RecordConsents(ctx, recs, now); err != nil {
		return 0, err
	}
	return len(recs), nil
}

// sendTraffic posts the sample events over HTTP and returns the intake's
// combined summary.
func sendTraffic(ctx context.Context, base string, now time.Time) (demoSent, intake.Summary, error) {
	var sent demoSent
	total := intake.NewSummary()
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(path string, body any, gpc bool) ([]byte, error) {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if gpc {
			req.Header.Set("Sec-GPC", "1")
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s: %s", path, resp.Status, out)
		}
		return out, nil
	}
	for _, b := range demoEvents(now) {
		out, err := post("/v1/events", map[string]any{"events": b.events}, b.gpc)
		if err != nil {
			return sent, total, err
		}
		s := intake.NewSummary()
		if err := json.Unmarshal(out, &s); err != nil {
			return sent, total, fmt.Errorf("/v1/events: bad summary: %w", err)
		}
		total.Add(s)
		sent.events += len(b.events)
	}
	return sent, total, nil
}
