package tally

// Outcome is what the intake decided about one event: DESIGN.md's fixed
// vocabulary, counted per day in intake_outcomes.
type Outcome string

// The outcomes.
const (
	Accepted  Outcome = "accepted"
	Duplicate Outcome = "duplicate"
	Invalid   Outcome = "invalid"
	Dropped   Outcome = "dropped"
)

// Reason says why an event was Dropped ("" for the other outcomes).
type Reason string

// The drop reasons.
const (
	ReasonNone          Reason = ""
	ReasonNoConsent     Reason = "no_consent"
	ReasonGPC           Reason = "gpc"
	ReasonUnmappedEvent Reason = "unmapped_event"
	ReasonBadCampaign   Reason = "bad_campaign"
	ReasonTooOld        Reason = "too_old"
	ReasonFuture        Reason = "future"
	ReasonLate          Reason = "late"
	ReasonOverBound     Reason = "over_bound"
	// ReasonCellLimit: the event would have opened a cell beyond
	// intake.max_cells_per_day.
	ReasonCellLimit Reason = "cell_limit"
)

// Decision is the outcome of one event and, when it was dropped, why.
type Decision struct {
	Outcome Outcome
	Reason  Reason
}

// Drop is the decision to drop an event for reason.
func Drop(reason Reason) Decision { return Decision{Outcome: Dropped, Reason: reason} }

// String is "outcome" or, for a drop, "outcome:reason": the key of the
// intake audit summary's outcome counts.
func (d Decision) String() string {
	if d.Reason == ReasonNone {
		return string(d.Outcome)
	}
	return string(d.Outcome) + ":" + string(d.Reason)
}
