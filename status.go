package tally

// Status is the release status of one daily_counts row.
type Status = Enum[statuses]

type statuses struct{}

func (statuses) name() string { return "release status" }

// The release statuses.
var (
	Released   = define[statuses]("released")
	Held       = define[statuses]("held")
	Suppressed = define[statuses]("suppressed")
)

// State is the delivery state of one uploads row: the ledger vocabulary of
// DESIGN.md.
type State = Enum[states]

type states struct{}

func (states) name() string { return "upload state" }

// The upload states.
var (
	Pending = define[states]("pending")
	Sent    = define[states]("sent")
	Failed  = define[states]("failed")
	Expired = define[states]("expired")
	DryRun  = define[states]("dry_run")
	// Partial: every conversion resolved, some acknowledged and some
	// refused for good.
	Partial = define[states]("partial")
	// Uncertain: some conversions went out in a request whose outcome is
	// unknown, to a platform without dedup; they wait for
	// `tally upload --resend-uncertain`.
	Uncertain = define[states]("uncertain")
)

// SmallCounts is what the release gate does with a count below MinCount.
type SmallCounts = Enum[smallCounts]

type smallCounts struct{}

func (smallCounts) name() string { return "privacy.small_counts" }

// The small-count modes.
var (
	Carry    = define[smallCounts]("carry")    // hold it and add it to the next day
	Suppress = define[smallCounts]("suppress") // never release it
)

// Noise is the kind of noise the release gate adds to a count.
type Noise = Enum[noises]

type noises struct{}

func (noises) name() string { return "privacy.noise" }

// The noise kinds.
var (
	NoNoise   = define[noises]("none")
	Geometric = define[noises]("geometric") // two-sided geometric, scale 1/Epsilon
)

// ParseStatus checks s is a release status.
func ParseStatus(s string) (Status, error) { return parseEnum[statuses](s) }

// ParseState checks s is an upload state.
func ParseState(s string) (State, error) { return parseEnum[states](s) }

// ParseSmallCounts checks s is a small-count mode.
func ParseSmallCounts(s string) (SmallCounts, error) { return parseEnum[smallCounts](s) }

// ParseNoise checks s is a noise kind.
func ParseNoise(s string) (Noise, error) { return parseEnum[noises](s) }

// GateParams are the release gate parameters, stored with every
// daily_counts row so that each decision can be checked later.
type GateParams struct {
	MinCount    int
	SmallCounts SmallCounts
	CarryDays   int
	Noise       Noise
	Epsilon     Epsilon
}
