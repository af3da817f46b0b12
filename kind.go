package tally

import (
	"context"
	"errors"
)

// Kind classifies an error for the command line, which maps each kind to
// its exit code in one place (cmd/tally/main.go).
type Kind int

// The error kinds.
const (
	// KindFailure: the work failed at run time (exit 1). The default.
	KindFailure Kind = iota
	// KindUsage: bad flags or arguments (exit 2).
	KindUsage
	// KindConfig: the configuration, the key or a file it names is wrong
	// (exit 2).
	KindConfig
	// KindConflict: another process holds what the command needs, such as
	// the run lock (exit 1).
	KindConflict
	// KindInterrupted: the command was stopped by a signal (exit 130).
	KindInterrupted
)

// kindError carries a Kind with its error.
type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// WithKind marks err as kind; nil stays nil.
func WithKind(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

// KindOf returns the kind err was marked with (the outermost mark wins);
// an unmarked cancellation is KindInterrupted, anything else KindFailure.
func KindOf(err error) Kind {
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	if errors.Is(err, context.Canceled) {
		return KindInterrupted
	}
	return KindFailure
}
