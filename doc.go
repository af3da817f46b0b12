// Package tally is the vocabulary every other package shares: the calendar
// Day, the Cell a count belongs to, the Platform it is uploaded to, the
// Outcome and Reason of an intake decision, the release Status and upload
// State of a count, the release gate's GateParams, the redacting Secret, and
// the Kind of an error (which the command line maps to an exit code).
//
// It holds types and their rules only: no I/O, no SQL, no configuration
// files. Each type is a distinct named type, so a literal such as
// "released" does not compile where a Status is expected unless it is
// written as one.
package tally
