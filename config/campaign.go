package config

import (
	"errors"
	"regexp"
	"strings"
	"unicode"
)

// The shapes a campaign value may never have, whatever intake.campaign_pattern
// or intake.campaigns allow. A campaign is stored in an append-only table,
// exported to marketers and sent to ad platforms, so a value that could be a
// person's contact detail or date of birth, or that could turn against the
// reader of an export or a terminal, is refused.
var (
	// phoneLike is 7 or more digits, possibly split by phone punctuation:
	// a phone, record or account number.
	phoneLike = regexp.MustCompile(`[0-9](?:[-.()/+]?[0-9]){6,}`)
	// dateLike is a numeric date (1975-03-12, 12/03/1975, 12.3.75) or one
	// with a month name (12-Mar-1975, mar12-1975).
	dateLike = regexp.MustCompile(`(?i)[0-9]{4}[-/._][0-9]{1,2}[-/._][0-9]{1,2}` +
		`|[0-9]{1,2}[-/._][0-9]{1,2}[-/._][0-9]{2,4}` +
		`|[0-9]{1,2}[-/._]?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[-/._]?[0-9]{2,4}` +
		`|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[-/._]?[0-9]{1,2}[-/._,][0-9]{2,4}`)
	// urlLike is a scheme, a www. host or a host followed by a path.
	urlLike = regexp.MustCompile(`(?i)://|^www\.|^(?:https?|mailto|tel|sms|ftp|file|data|javascript):|[a-z0-9-]\.[a-z]{2,}/`)
)

// CheckCampaign returns why campaign may never be stored, or nil. It holds
// the rules that apply on top of any pattern or allowlist: no email
// address, phone number (7+ digits), date, URL or whitespace (personal
// data); no leading = + - @ (a spreadsheet formula in the export); no
// control or bidirectional formatting character (a terminal escape, or
// text that reads differently from what it is).
func CheckCampaign(campaign string) error {
	if campaign == "" {
		return nil
	}
	switch campaign[0] {
	case '=', '+', '-', '@':
		return errors.New("begins with = + - or @ (a spreadsheet formula)")
	}
	for _, r := range campaign {
		switch {
		case unicode.IsSpace(r):
			return errors.New("holds whitespace")
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029':
			// Cf holds the bidirectional overrides and isolates
			// (U+202A-U+202E, U+2066-U+2069), the marks U+200E/F and
			// the zero-width characters.
			return errors.New("holds a control or formatting character")
		}
	}
	lower := strings.ToLower(campaign)
	switch {
	case strings.Contains(campaign, "@") || strings.Contains(lower, "%40"):
		return errors.New("looks like an email address")
	case urlLike.MatchString(campaign):
		return errors.New("looks like a URL")
	case dateLike.MatchString(campaign):
		return errors.New("looks like a date")
	case phoneLike.MatchString(campaign):
		return errors.New("looks like a phone or record number (7 or more digits)")
	}
	return nil
}
