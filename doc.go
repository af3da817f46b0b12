// Package tally is the vocabulary every other package shares: the calendar
// Day, the Cell a count belongs to, the Platform it is uploaded to, the
// Outcome and Reason of an intake decision, the release Status and upload
// State of a count, the release gate's GateParams, the redacting Secret, and
// the Kind of an error (which the command line maps to an exit code).
//
// It holds types and their rules only: no I/O, no SQL, no configuration
// files. The closed vocabularies (Outcome, Reason, Status, State,
// SmallCounts, Noise) are Enum types: a string literal such as "released"
// does not compile where a Status is expected, and a value read from a
// file or a row is checked. Day and Platform are named strings, since
// they arrive as input (a flag, a config key, a column); ParseDay,
// ParsePlatform and Platform.Valid check them at that boundary.
package tally
