package tally_test

import (
	"strings"
	"testing"

	"github.com/tally-health/tally"
)

// TestParseMicrosIsExact: amounts are read into whole millionths, exactly,
// and every shape a spreadsheet or locale could make ambiguous is refused
// with a reason.
func TestParseMicrosIsExact(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want tally.Micros
		str  string
	}{
		{"0", 0, "0.00"},
		{"12.50", 12_500_000, "12.50"},
		{"12.5", 12_500_000, "12.50"},
		{"0.1", 100_000, "0.10"},
		{"0.000001", 1, "0.000001"},
		{"1200", 1_200_000_000, "1200.00"},
		{"007.30", 7_300_000, "7.30"},
		{"999999999999.999999", tally.MaxMicros, "999999999999.999999"},
		{"0.29", 290_000, "0.29"}, // 0.29 is not exact in a float64
	} {
		got, err := tally.ParseMicros(tc.in)
		if err != nil || got != tc.want || got.String() != tc.str {
			t.Errorf("ParseMicros(%q) = %d (%s), %v; want %d (%s)", tc.in, got, got, err, tc.want, tc.str)
		}
	}
	for in, why := range map[string]string{
		"":                     "empty",
		"-1":                   "negative",
		"-0.01":                "negative",
		"+1":                   "not a decimal",
		"1e9":                  "exponent",
		"1E3":                  "exponent",
		"12,50":                "comma",
		"1,200.00":             "comma",
		"1.200,00":             "comma",
		"1 200":                "not a decimal",
		" 12.50":               "not a decimal",
		"$12":                  "not a decimal",
		"12.50 EUR":            "not a decimal",
		".5":                   "not a decimal",
		"5.":                   "not a decimal",
		"1.2.3":                "not a decimal",
		"0x10":                 "not a decimal",
		"NaN":                  "not a decimal",
		"Inf":                  "not a decimal",
		"١٢":                   "not a decimal",
		"1.0000001":            "more than 6 decimal places",
		"1000000000000":        "too large",
		"99999999999999999999": "too large",
	} {
		if got, err := tally.ParseMicros(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseMicros(%q) = %d, %v; want an error saying %q", in, got, err, why)
		}
	}
	if got := tally.Micros(-3_000_000).String(); got != "-3.00" {
		t.Errorf("String of a negative amount = %q", got)
	}
}
