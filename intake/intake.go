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
	Metrics  *Metrics // optional
}

// Process decodes, checks and commits raw events. It returns after the
// commit; on error nothing may be acknowledged. wait selects SubmitWait
// (importers) over Submit (HTTP, which answers 503 when busy).
func (in *Intake) Process(ctx context.Context, raws []json.RawMessage, gpc, wait bool) (Summary, error) {
	sum := NewSummary()
	iw := &store.IntakeWrite{Drops: map[store.OutcomeKey]int{}}
	today := in.Pipeline.Day(in.Pipeline.Now())
	for i, raw := range raws {
		ev, err := DecodeEvent(raw)
		if err != nil {
			sum.Invalid = append(sum.Invalid, InvalidEvent{Index: i, Error: err.Error()})
			iw.Drops[store.OutcomeKey{Day: today, Outcome: tally.Invalid}]++
			continue
		}
		v := in.Pipeline.Check(ev, gpc)
		if v.Event != nil {
			iw.Events = append(iw.Events, v.Event)
			continue
		}
		iw.Drops[store.OutcomeKey{Day: v.Day, Outcome: v.Outcome, Reason: v.Reason}]++
	}
	submit := in.Writer.Submit
	if wait {
		submit = in.Writer.SubmitWait
	}
	if err := submit(ctx, iw); err != nil {
		return Summary{}, fmt.Errorf("intake: commit: %w", err)
	}
	for k, n := range iw.Drops {
		if k.Outcome == tally.Dropped {
			sum.Dropped[k.Reason] += n
		}
		in.Metrics.countOutcome(k.Outcome, k.Reason, n)
	}
	for _, ev := range iw.Events {
		switch ev.Outcome {
		case tally.Accepted:
			sum.Accepted++
		case tally.Duplicate:
			sum.Duplicates++
		default:
			sum.Dropped[ev.Reason]++
		}
		in.Metrics.countOutcome(ev.Outcome, ev.Reason, 1)
	}
	return sum, nil
}
