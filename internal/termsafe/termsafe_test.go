package termsafe

import "testing"

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"spring_24":                "spring_24",
		"café-été":                 "café-été",
		"a\x1b[31mred":             `a\x1b[31mred`,
		"bell\x07":                 `bell\a`,
		"line\nforged":             `line\nforged`,
		"nul\x00 del\x7f":          `nul\x00 del\x7f`,
		"c1\u0085\u009b":           `c1\u0085\u009b`,
		"abc\u202egpj.exe":         `abc\u202egpj.exe`,
		"\u202a\u202b\u202c\u202d": `\u202a\u202b\u202c\u202d`,
		"\u2066\u2067\u2068\u2069": `\u2066\u2067\u2068\u2069`,
		"\u200e\u200f\u200b":       `\u200e\u200f\u200b`,
		"\u2028\u2029":             `\u2028\u2029`,
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}
