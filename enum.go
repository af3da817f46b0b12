package tally

import (
	"database/sql/driver"
	"fmt"
	"slices"
)

// vocabulary names one closed set. Each set is an Enum instantiated with
// its own vocabulary type, so the sets are distinct types and a value of
// one is never accepted as another. Its values are the ones define made.
type vocabulary interface {
	name() string // what the set is called, for errors
}

// defined holds every value define made, by vocabulary name.
var defined = map[string][]string{}

// define makes v a value of V's vocabulary; only this package's variable
// declarations call it, so they are the one list of each vocabulary.
func define[V vocabulary](v string) Enum[V] {
	var vocab V
	defined[vocab.name()] = append(defined[vocab.name()], v)
	return Enum[V]{v: v}
}

// Enum is one value of a closed vocabulary (Status, State, Outcome,
// Reason, SmallCounts, Noise). Only this package's variables, the Parse
// functions and Scan/UnmarshalText (which check the value) make one: a
// string literal such as "released" does not compile where a Status is
// expected, and a misspelt value read from a file is an error.
type Enum[V vocabulary] struct{ v string }

// String is the value as DESIGN.md and the database spell it.
func (e Enum[V]) String() string { return e.v }

// MarshalText makes JSON and log output the plain value.
func (e Enum[V]) MarshalText() ([]byte, error) { return []byte(e.v), nil }

// UnmarshalText accepts only a value of the vocabulary.
func (e *Enum[V]) UnmarshalText(b []byte) error {
	v, err := parseEnum[V](string(b))
	if err == nil {
		*e = v
	}
	return err
}

// Value stores the value as TEXT; a value outside the vocabulary (an unset
// Status, say) is an error rather than a row no reader accepts.
func (e Enum[V]) Value() (driver.Value, error) {
	if _, err := parseEnum[V](e.v); err != nil {
		return nil, err
	}
	return e.v, nil
}

// Scan reads a TEXT column, refusing a value outside the vocabulary (an
// edited row is an error, not a new state).
func (e *Enum[V]) Scan(src any) error {
	switch s := src.(type) {
	case string:
		return e.UnmarshalText([]byte(s))
	case []byte:
		return e.UnmarshalText(s)
	}
	var vocab V
	return fmt.Errorf("%s: cannot scan %T", vocab.name(), src)
}

func parseEnum[V vocabulary](s string) (Enum[V], error) {
	var vocab V
	if !slices.Contains(defined[vocab.name()], s) {
		return Enum[V]{}, fmt.Errorf("unknown %s %q", vocab.name(), s)
	}
	return Enum[V]{v: s}, nil
}
