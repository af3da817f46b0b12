// Package campaign holds the shapes a campaign value may never have: the
// rules the intake applies to every event and the configuration to every
// value of intake.campaigns.
package campaign

import (
	"errors"
	"regexp"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The shapes a campaign value may never have, whatever intake.campaign_pattern
// or intake.campaigns allow. A campaign is stored in an append-only table,
// exported to marketers and sent to ad platforms, so a value that could be a
// person's contact detail or date of birth, or that could turn against the
// reader of an export or a terminal, is refused.
var (
	// separators is any run of characters that are neither letters nor
	// digits. Phone and date shapes are matched after each run is made a
	// single '-', so "555_123_4567", "555--123--4567" and "1975~03~12" are
	// judged like "555-123-4567" and "1975-03-12".
	separators = regexp.MustCompile(`[^\p{L}\p{N}]+`)
	// phoneLike is 7 or more digits, possibly split by separators: a phone,
	// record or account number.
	phoneLike = regexp.MustCompile(`[0-9](?:-?[0-9]){6,}`)
	// dateLike is a numeric date (1975-03-12, 12-03-1975, 12-3-75) or one
	// with a month name (12-Mar-1975, mar12-1975), on separator-folded text.
	dateLike = regexp.MustCompile(`(?i)[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}` +
		`|[0-9]{1,2}-[0-9]{1,2}-[0-9]{2,4}` +
		`|[0-9]{1,2}-?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*-?[0-9]{2,4}` +
		`|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*-?[0-9]{1,2}-[0-9]{2,4}`)
	// urlLike is a scheme, a www. host or a host followed by a path, query
	// or fragment.
	urlLike = regexp.MustCompile(`(?i)://|(?:^|[^a-z0-9])www\.` +
		`|(?:^|[^a-z])(?:https?|mailto|tel|sms|ftp|file|data|javascript):|[a-z0-9-]\.[a-z]{2,}[/?#]`)
	// emailLike is an at sign or a spelled-out one: jane(at)example.org.
	emailLike = regexp.MustCompile(`(?i)@|[(\[{<]at[)\]}>]`)
	// encoded is percent-encoding or an HTML character reference: either
	// can hide any of the shapes above from these checks (%40 is @, &#64;
	// too), and a campaign has no need of them.
	encoded = regexp.MustCompile(`%[0-9A-Fa-f]{2}|&#?[A-Za-z0-9]+;`)
)

// Check returns why campaign may never be stored, or nil. It holds
// the rules that apply on top of any pattern or allowlist: no email
// address, phone number (7+ digits), date, URL or whitespace (personal
// data); no leading = + - @ (a spreadsheet formula in the export); no
// control or bidirectional formatting character (a terminal escape, or
// text that reads differently from what it is). So that these rules cannot
// be walked around, it also refuses what would hide a shape from them:
// invalid UTF-8, invisible characters, digits other than ASCII 0-9,
// lookalike (compatibility) characters such as a fullwidth @ or digit,
// and percent-encoding or HTML character references.
func Check(campaign string) error {
	if campaign == "" {
		return nil
	}
	if !utf8.ValidString(campaign) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range campaign {
		if err := checkRune(r); err != nil {
			return err
		}
	}
	if norm.NFKC.String(campaign) != norm.NFC.String(campaign) {
		// Fullwidth ＠ and ７, superscripts, circled and styled letters:
		// each reads as another character that the checks below look for.
		return errors.New("holds a lookalike of another character (fullwidth, superscript, circled or styled)")
	}
	switch campaign[0] {
	case '=', '+', '-', '@':
		return errors.New("begins with = + - or @ (a spreadsheet formula)")
	}
	folded := separators.ReplaceAllString(campaign, "-")
	switch {
	case encoded.MatchString(campaign):
		return errors.New("holds percent-encoding or an HTML character reference")
	case emailLike.MatchString(campaign):
		return errors.New("looks like an email address")
	case urlLike.MatchString(campaign):
		return errors.New("looks like a URL")
	case dateLike.MatchString(folded):
		return errors.New("looks like a date")
	case phoneLike.MatchString(folded):
		return errors.New("looks like a phone or record number (7 or more digits)")
	}
	return nil
}

// checkRune refuses a character that is whitespace, invisible, a control
// or formatting character, or a digit outside ASCII.
func checkRune(r rune) error {
	switch {
	case unicode.IsSpace(r):
		return errors.New("holds whitespace")
	case !unicode.IsGraphic(r):
		// Controls (Cc), format characters (Cf: the bidirectional
		// overrides and isolates, the marks U+200E/F, the zero-width
		// characters, U+FEFF, the tag characters), private-use,
		// surrogate and unassigned code points, U+2028 and U+2029.
		return errors.New("holds a control or formatting character")
	case unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) || r == '\u2800':
		// Letters and marks that render as nothing (U+3164 HANGUL
		// FILLER, U+034F) and the braille blank, which looks like a space.
		return errors.New("holds an invisible character")
	case r > unicode.MaxASCII && unicode.IsNumber(r):
		// ٥٥٥١٢٣٤ is a phone number to its reader, not to [0-9].
		return errors.New("holds a digit or number outside ASCII 0-9")
	}
	return nil
}
