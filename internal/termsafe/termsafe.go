// Package termsafe escapes text that came from outside before it reaches
// a terminal, an editor or a CSV file read in one.
package termsafe

import (
	"strconv"
	"strings"
	"unicode"
)

// String returns s with every control character (C0, DEL, C1), Unicode
// format character (the bidirectional overrides and isolates U+202A-U+202E
// and U+2066-U+2069, the marks U+200E/F, zero-width characters) and line or
// paragraph separator written as a Go escape such as \x1b or \u202e. Text
// that came from outside (a campaign stored before intake refused such
// values, a platform's answer) then cannot move the cursor, recolour,
// retitle the terminal, forge a line, or read differently from what it is.
func String(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}
