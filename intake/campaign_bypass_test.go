package intake_test

import (
	"context"
	"testing"

	"github.com/tally-health/tally/campaign"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/sqlfile"
)

// campaignBypasses are PHI shapes dressed so that a check on ASCII text
// alone misses them: other digits, other separators, lookalike characters,
// invisible characters and encodings.
var campaignBypasses = []string{
	// digits that are not 0-9 but read as a phone number
	"７７７７７７７", "٥٥٥١٢٣٤٥٦٧", "۵۵۵۱۲۳۴۵۶۷", "¹²³⁴⁵⁶⁷", "①②③④⑤⑥⑦", "𝟓𝟓𝟓𝟏𝟐𝟑𝟒",
	// digits split by separators other than - . ( ) / +
	"555_123_4567", "555--123--4567", "555~123~4567", "555,123,4567", "555:123:4567", "MRN_0012_3456",
	// dates with doubled or unusual separators
	"DOB-1975--03--12", "1975~03~12", "12__03__1975",
	// lookalike @, = and scheme, and spelled-out @
	"jane＠example.org", "jane﹫example.org", "jane(at)example.org", "jane[at]example.org",
	"＝HYPERLINK(1)", "＋SUM(A1)", "ｈｔｔｐｓ：／／example.org",
	// encodings that hide @, digits or a scheme
	"jane%2540example.org", "jane&#64;example.org", "jane&commat;example.org",
	"%35%35%35%31%32%33%34", "https%3A%2F%2Fexample.org",
	// URLs the ASCII check missed
	"portal.example.org?mrn=1", "sub.www.example.org", "go-javascript:alert(1)",
	// invisible characters that are not Unicode whitespace
	"jane\u3164doe", "jane\u2800doe", "jane\u034fdoe", "jane\ufe0fdoe", "jane\u115fdoe", "jane\ue000doe",
}

// TestCampaignUnicodeBypassRefused checks that, whatever the pattern, a
// campaign cannot carry an email, phone, date or URL past the shape checks
// with non-ASCII digits, unusual separators, lookalike or invisible
// characters or encodings, and that none of them is stored.
func TestCampaignUnicodeBypassRefused(t *testing.T) {
	r := newCampaignRig(t, func(o *intake.Options) { o.CampaignPattern = `^(?s:.+)$` })
	for _, campaign := range campaignBypasses {
		if got := r.outcome(t, campaign); got != "dropped/bad_campaign" {
			t.Errorf("campaign %q: %s, want dropped/bad_campaign", campaign, got)
		}
	}
	for _, campaign := range []string{"spring_24", "brand_123456", "été-2026", "春季", "v1.2.3", "q1-2026_b2"} {
		if got := r.outcome(t, campaign); got != "accepted" {
			t.Errorf("campaign %q: %s, want accepted", campaign, got)
		}
	}
	var n int
	if err := sqlfile.Open(t, r.f.db.Path).QueryRowContext(context.Background(),
		`SELECT count(*) FROM events WHERE campaign NOT IN ('', 'spring_24', 'brand_123456', 'été-2026', '春季', 'v1.2.3', 'q1-2026_b2')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d events stored a refused campaign", n)
	}
}

// TestCampaignInvalidUTF8Refused checks a campaign that is not UTF-8 (a
// CSV import can carry one) is refused: its bytes would be stored as they
// came, out of reach of every other check.
func TestCampaignInvalidUTF8Refused(t *testing.T) {
	for _, c := range []string{"jane\xffdoe", "\xc0\xaf", "spring\xed\xa0\x80"} {
		if campaign.Check(c) == nil {
			t.Errorf("campaign %q accepted", c)
		}
	}
}
