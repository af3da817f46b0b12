package tally

// Outcome is what the intake decided about one event: DESIGN.md's fixed
// vocabulary, counted per day in intake_outcomes.
type Outcome = Enum[outcomes]

type outcomes struct{}

func (outcomes) name() string { return "outcome" }

// The outcomes.
var (
	Accepted  = define[outcomes]("accepted")
	Duplicate = define[outcomes]("duplicate")
	Invalid   = define[outcomes]("invalid")
	Dropped   = define[outcomes]("dropped")
)

// Reason says why an event was Dropped (ReasonNone for the other outcomes).
type Reason = Enum[reasons]

type reasons struct{}

func (reasons) name() string { return "drop reason" }

// The drop reasons, in the order the intake checks them.
var (
	ReasonNone          = define[reasons]("")
	ReasonGPC           = define[reasons]("gpc")
	ReasonNoConsent     = define[reasons]("no_consent")
	ReasonUnmappedEvent = define[reasons]("unmapped_event")
	ReasonBadCampaign   = define[reasons]("bad_campaign")
	ReasonFuture        = define[reasons]("future")
	ReasonTooOld        = define[reasons]("too_old")
	ReasonLate          = define[reasons]("late")
	// ReasonCellLimit: the event would have opened a cell beyond
	// intake.max_cells_per_day.
	ReasonCellLimit = define[reasons]("cell_limit")
	ReasonOverBound = define[reasons]("over_bound")
)

// ParseOutcome checks s is an outcome.
func ParseOutcome(s string) (Outcome, error) { return parseEnum[outcomes](s) }

// ParseReason checks s is a drop reason ("" is ReasonNone).
func ParseReason(s string) (Reason, error) { return parseEnum[reasons](s) }

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
		return d.Outcome.String()
	}
	return d.Outcome.String() + ":" + d.Reason.String()
}
