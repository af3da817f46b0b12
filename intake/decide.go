package intake

import (
	"context"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Tx is what decide asks of the database, inside the writer's transaction.
// *store.IntakeTx implements it. The answers are facts; what they mean,
// and in which order they are asked, is decide's.
//
// The day's salt never leaves the store, so the methods that need it take
// the permanent-key hashes (Candidate.EventKey, Candidate.VisitorKey) and
// the store keys them again with the salt: the stored dedup key and
// contribution key are computed where the salt lives.
type Tx interface {
	// Consent reports whether the visitor's latest record for purpose at
	// or before at is a grant, and when it was made.
	Consent(ctx context.Context, visitorKey []byte, purpose string, at time.Time) (granted bool, since time.Time, err error)
	// DayOpen reports whether events may still be added to day (it has a
	// salt and is not sealed, nor before a sealed day).
	DayOpen(ctx context.Context, day tally.Day) (bool, error)
	// Cells reports whether cell c already holds events and, when it does
	// not, how many cells its day holds.
	Cells(ctx context.Context, c tally.Cell) (exists bool, onDay int, err error)
	// ClaimContribution records that the visitor counts in c and reports
	// whether it is the first time; ReleaseContribution undoes it.
	ClaimContribution(ctx context.Context, c tally.Cell, visitorKey []byte) (first bool, err error)
	ReleaseContribution(ctx context.Context, c tally.Cell, visitorKey []byte) error
	// ClaimVisitorDay counts one more cell for the visitor on day and
	// reports whether that is within max; ReleaseVisitorDay gives one back.
	ClaimVisitorDay(ctx context.Context, day tally.Day, visitorKey []byte, max int) (ok bool, err error)
	ReleaseVisitorDay(ctx context.Context, day tally.Day, visitorKey []byte, max int) error
	// SeenEvent reports whether an event with this event id is stored on day.
	SeenEvent(ctx context.Context, day tally.Day, eventKey []byte) (bool, error)
	// InsertEvent stores the event in c (and counts it in the cell) unless
	// an event with this event id is stored on the day already.
	InsertEvent(ctx context.Context, c tally.Cell, eventKey []byte) (inserted bool, err error)
	// Count adds n events decided d on day to intake_outcomes.
	Count(ctx context.Context, day tally.Day, d tally.Decision, n int) error
}

var _ Tx = (*store.IntakeTx)(nil)

// Rules are the settings decide applies with the database.
type Rules struct {
	// ConsentPurpose and MaxConsentAge make a consent record valid for an
	// event: a grant for that purpose, no older than that at the event.
	// RequireSensitive adds health_data to the purposes a grant needs.
	ConsentPurpose   string
	MaxConsentAge    time.Duration
	RequireSensitive bool
	// MaxCellsPerDay, when > 0, is intake.max_cells_per_day.
	MaxCellsPerDay int
	// MaxCellsPerVisitorDay, when > 0, is privacy.max_cells_per_visitor_day.
	MaxCellsPerVisitorDay int
}

// decide is an event's outcome, in the order of README.md's checks (an
// invalid event never becomes a Candidate): gpc, no_consent,
// unmapped_event, bad_campaign, future, too_old, late, cell_limit,
// duplicate, over_bound, else accepted. Consent comes before the checks
// that need no database so that it names the outcome first. decide asks
// tx only what the next check needs: a dropped event writes nothing but
// its count, which the caller adds.
func decide(ctx context.Context, tx Tx, r Rules, c Candidate) (tally.Decision, error) {
	if c.GPC {
		return tally.Drop(tally.ReasonGPC), nil
	}
	consented, err := consented(ctx, tx, r, c)
	if err != nil {
		return tally.Decision{}, err
	}
	switch {
	case !consented:
		return tally.Drop(tally.ReasonNoConsent), nil
	case c.Unmapped:
		return tally.Drop(tally.ReasonUnmappedEvent), nil
	case c.BadCampaign:
		return tally.Drop(tally.ReasonBadCampaign), nil
	case c.Future:
		return tally.Drop(tally.ReasonFuture), nil
	case c.TooOld:
		return tally.Drop(tally.ReasonTooOld), nil
	}
	if open, err := tx.DayOpen(ctx, c.Day); err != nil || !open {
		return tally.Drop(tally.ReasonLate), err
	}
	if r.MaxCellsPerDay > 0 {
		exists, onDay, err := tx.Cells(ctx, c.Cell)
		if err != nil || (!exists && onDay >= r.MaxCellsPerDay) {
			return tally.Drop(tally.ReasonCellLimit), err
		}
	}
	// duplicate, then over_bound. The contribution is claimed before the
	// event is stored: on the usual path (a new event of a visitor new to
	// the cell) that costs the two inserts and no lookup; only a visitor
	// already counted needs SeenEvent to tell the two apart.
	first, err := tx.ClaimContribution(ctx, c.Cell, c.VisitorKey)
	if err != nil {
		return tally.Decision{}, err
	}
	if !first {
		// The visitor already counts in this cell.
		return overBound(ctx, tx, c)
	}
	// A visitor new to the cell takes one of their cells of the day; with
	// none left the event is over the bound too (or a resent event whose
	// cell changed: a duplicate). The cell's claim may stay: any later
	// event of theirs there is over the bound either way.
	if r.MaxCellsPerVisitorDay > 0 {
		ok, err := tx.ClaimVisitorDay(ctx, c.Day, c.VisitorKey, r.MaxCellsPerVisitorDay)
		if err != nil {
			return tally.Decision{}, err
		}
		if !ok {
			return overBound(ctx, tx, c)
		}
	}
	inserted, err := tx.InsertEvent(ctx, c.Cell, c.EventKey)
	if err != nil {
		return tally.Decision{}, err
	}
	if !inserted {
		// The event id was accepted earlier this day (for another visitor
		// or cell): a duplicate, which must not hold this visitor's places.
		if r.MaxCellsPerVisitorDay > 0 {
			if err := tx.ReleaseVisitorDay(ctx, c.Day, c.VisitorKey, r.MaxCellsPerVisitorDay); err != nil {
				return tally.Decision{}, err
			}
		}
		return tally.Decision{Outcome: tally.Duplicate}, tx.ReleaseContribution(ctx, c.Cell, c.VisitorKey)
	}
	return tally.Decision{Outcome: tally.Accepted}, nil
}

// overBound is the outcome of an event its visitor's bound leaves no room
// for: a resent event of theirs is a duplicate, anything else is over the
// bound.
func overBound(ctx context.Context, tx Tx, c Candidate) (tally.Decision, error) {
	seen, err := tx.SeenEvent(ctx, c.Day, c.EventKey)
	if err != nil || seen {
		return tally.Decision{Outcome: tally.Duplicate}, err
	}
	return tally.Drop(tally.ReasonOverBound), nil
}
