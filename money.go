package tally

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Micros is an amount of money in millionths of its currency's unit, as
// Google Ads reports cost (cost_micros): an integer, so a spend is stored
// and summed exactly, never rounded as a float would be. Six decimal places
// cover every currency's minor unit.
type Micros int64

// MaxMicros is the largest amount ParseMicros accepts: 999 999 999 999.999999,
// far above any campaign's daily spend and far below int64's limit, so a
// year of sums cannot overflow.
const MaxMicros Micros = 999_999_999_999_999_999

// ParseMicros reads a non-negative decimal amount written with a point,
// such as "12.50", "0.5" or "1200": digits, then at most six decimals. It
// refuses what a spreadsheet or a locale may write instead (a comma
// decimal "12,50", a thousands separator "1,200.00", an exponent "1e9", a
// sign, a currency symbol), so an amount is never read as another. Its
// errors do not repeat s, which the caller may not want shown.
func ParseMicros(s string) (Micros, error) {
	whole, frac, dot := strings.Cut(s, ".")
	switch {
	case s == "":
		return 0, errors.New("empty amount")
	case strings.HasPrefix(s, "-"):
		return 0, errors.New("negative amount")
	case strings.ContainsAny(s, "eE") && strings.Trim(s, "0123456789.eE+-") == "":
		return 0, errors.New("amount has an exponent: write the plain decimal")
	case strings.Contains(s, ","):
		return 0, errors.New("amount has a comma: write a point for decimals and no thousands separator (12.50, 1200.00)")
	case !digits(whole) || (dot && !digits(frac)):
		return 0, errors.New("amount is not a decimal like 12.50")
	case len(frac) > 6:
		return 0, errors.New("amount has more than 6 decimal places")
	case len(strings.TrimLeft(whole, "0")) > 12:
		return 0, errors.New("amount is too large (at most 999999999999.999999)")
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount: %w", err)
	}
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64) // six ASCII digits
	return Micros(w*1_000_000 + f), nil
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String writes m as a decimal with at least two decimal places and no
// trailing zeros beyond them: "12.50", "0.05", "1.234567", "-3.00". It is
// exact; ParseMicros reads it back (a negative one aside).
func (m Micros) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign, u = "-", uint64(-m)
	}
	frac := strings.TrimRight(fmt.Sprintf("%06d", u%1_000_000), "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return fmt.Sprintf("%s%d.%s", sign, u/1_000_000, frac)
}
