package tally

// Outcome is what the intake decided about one event: DESIGN.md's fixed
// vocabulary, counted per day in intake_outcomes.
type Outcome = Enum[outcomes]

type outcomes struct{}

func (outcomes) name() string { return "outcome" }
func (outcomes) values() []string {
	return []string{"accepted", "duplicate", "invalid", "dropped"}
}

// The outcomes.
var (
	Accepted  = Outcome{"accepted"}
	Duplicate = Outcome{"duplicate"}
	Invalid   = Outcome{"invalid"}
	Dropped   = Outcome{"dropped"}
)

// Reason says why an event was Dropped (ReasonNone for the other outcomes).
type Reason = Enum[reasons]

type reasons struct{}

func (reasons) name() string { return "drop reason" }
func (reasons) values() []string {
	return []string{"", "gpc", "no_consent", "unmapped_event", "bad_campaign", "future", "too_old",
		"late", "cell_limit", "over_bound"}
}

// The drop reasons, in the order the intake checks them.
var (
	ReasonNone          = Reason{""}
	ReasonGPC           = Reason{"gpc"}
	ReasonNoConsent     = Reason{"no_consent"}
	ReasonUnmappedEvent = Reason{"unmapped_event"}
	ReasonBadCampaign   = Reason{"bad_campaign"}
	ReasonFuture        = Reason{"future"}
	ReasonTooOld        = Reason{"too_old"}
	ReasonLate          = Reason{"late"}
	// ReasonCellLimit: the event would have opened a cell beyond
	// intake.max_cells_per_day.
	ReasonCellLimit = Reason{"cell_limit"}
	ReasonOverBound = Reason{"over_bound"}
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
