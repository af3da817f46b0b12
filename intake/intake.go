package intake

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Summary is what one request or import chunk did, in the shape of the
// POST /v1/events response.
type Summary struct {
	Accepted   int                  `json:"accepted"`
	Duplicates int                  `json:"duplicates"`
	Dropped    map[tally.Reason]int `json:"dropped"`
	Invalid    []InvalidEvent       `json:"invalid"`
}

// InvalidEvent names an event that failed decoding and why (never its
// content).
type InvalidEvent struct {
	Index int    `json:"index"`
	Error string `json:"error"`
}

// NewSummary returns an empty summary whose maps and slices encode as {} and [].
func NewSummary() Summary { return Summary{Dropped: map[tally.Reason]int{}, Invalid: []InvalidEvent{}} }

// addCounts adds the accepted, duplicate and dropped events of c (invalid
// events are listed one by one instead).
func (s *Summary) addCounts(c Counts) {
	for k, n := range c {
		switch k.Outcome {
		case tally.Accepted:
			s.Accepted += n
		case tally.Duplicate:
			s.Duplicates += n
		case tally.Dropped:
			s.Dropped[k.Reason] += n
		}
	}
}

// Add folds o into s.
func (s *Summary) Add(o Summary) {
	s.Accepted += o.Accepted
	s.Duplicates += o.Duplicates
	for k, n := range o.Dropped {
		s.Dropped[k] += n
	}
	s.Invalid = append(s.Invalid, o.Invalid...)
}

// Intake wires the pipeline to the writer.
type Intake struct {
	Pipeline *Pipeline
	Writer   *Writer
	// Consents records what the consent strings carried by events say.
	Consents ConsentStore
	Metrics  *Metrics // optional
}

// Process decodes, checks and commits raw events. It returns after the
// commit; on error nothing may be acknowledged. wait selects SubmitWait
// (importers) over Submit (HTTP, which answers 503 when busy).
func (in *Intake) Process(ctx context.Context, raws []json.RawMessage, gpc, wait bool) (Summary, error) {
	sum := NewSummary()
	iw := &Write{Candidates: make([]Candidate, 0, len(raws)), Counts: Counts{}}
	today := in.Pipeline.Day(in.Pipeline.Now())
	var consents []store.Consent
	for i, raw := range raws {
		ev, err := DecodeEvent(raw)
		var c Candidate
		var recs []store.Consent
		if err == nil {
			c = in.Pipeline.Candidate(ev, gpc)
			recs, err = in.Pipeline.EventConsents(ev, &c)
		}
		if err != nil {
			sum.Invalid = append(sum.Invalid, InvalidEvent{Index: i, Error: err.Error()})
			iw.Counts.Add(today, tally.Decision{Outcome: tally.Invalid}, 1)
			continue
		}
		consents = append(consents, recs...)
		iw.Candidates = append(iw.Candidates, c)
	}
	// An HTTP event's time may be a page's clock: a withdrawal it carries
	// never hides behind a later record (see store.Consent.ClientClock).
	if err := in.recordConsents(ctx, consents, !wait); err != nil {
		return Summary{}, fmt.Errorf("intake: consent: %w", err)
	}
	submit := in.Writer.Submit
	if wait {
		submit = in.Writer.SubmitWait
	}
	counts, err := submit(ctx, iw)
	if err != nil {
		return Summary{}, fmt.Errorf("intake: commit: %w", err)
	}
	sum.addCounts(counts)
	in.Metrics.countOutcomes(counts)
	return sum, nil
}
