package intake

import (
	"context"
	"errors"

	"github.com/tally-health/tally/store"
)

// EventConsents are the consent records an event's strings decode to: what
// the CMP said when the event was made, at the event's time. A string that
// does not decode makes the event invalid (the error carries the
// decoder's reason). An event dropped before consent is looked up (GPC, a
// time ahead of the clock or too old) records nothing; its strings are
// still checked. When the strings withdraw consent, c is marked Withdrawn:
// the event is no_consent whatever the stored history says.
func (p *Pipeline) EventConsents(ev Event, c *Candidate) ([]store.Consent, error) {
	if ev.Strings.empty() {
		return nil, nil
	}
	s, err := p.readConsent(nil, ev.Strings)
	if err != nil || c.GPC || c.Future || c.TooOld {
		return nil, err
	}
	recs := p.records(s, c.VisitorKey, c.At, "", "")
	for _, r := range recs {
		if !r.Granted {
			c.Withdrawn = true
		}
	}
	return recs, nil
}

// recordConsents records the consents events carried, before their events
// are decided, so that the events see them. clientClock marks times that
// may be a page's clock.
func (in *Intake) recordConsents(ctx context.Context, recs []store.Consent, clientClock bool) error {
	if len(recs) == 0 {
		return nil
	}
	if in.Consents == nil {
		return errors.New("no consent store wired")
	}
	for i := range recs {
		recs[i].ClientClock = clientClock
	}
	return in.Writer.Direct(func() error {
		_, err := in.Consents.RecordConsents(ctx, recs, in.Pipeline.Now())
		return err
	})
}
