package tally

// Status is the release status of one daily_counts row.
type Status string

// The release statuses.
const (
	Released   Status = "released"
	Held       Status = "held"
	Suppressed Status = "suppressed"
)

// State is the delivery state of one uploads row: the ledger vocabulary of
// DESIGN.md.
type State string

// The upload states.
const (
	Pending State = "pending"
	Sent    State = "sent"
	Failed  State = "failed"
	Expired State = "expired"
	DryRun  State = "dry_run"
	// Partial: every conversion resolved, some acknowledged and some
	// refused for good.
	Partial State = "partial"
	// Uncertain: some conversions went out in a request whose outcome is
	// unknown, to a platform without dedup; they wait for
	// `tally upload --resend-uncertain`.
	Uncertain State = "uncertain"
)

// SmallCounts is what the release gate does with a count below MinCount.
type SmallCounts string

// The small-count modes.
const (
	Carry    SmallCounts = "carry"    // hold it and add it to the next day
	Suppress SmallCounts = "suppress" // never release it
)

// Noise is the kind of noise the release gate adds to a count.
type Noise string

// The noise kinds.
const (
	NoNoise   Noise = "none"
	Geometric Noise = "geometric" // two-sided geometric, scale 1/Epsilon
)

// GateParams are the release gate parameters, stored with every
// daily_counts row so that each decision can be checked later.
type GateParams struct {
	MinCount    int
	SmallCounts SmallCounts
	CarryDays   int
	Noise       Noise
	Epsilon     float64
}
