package campaign_test

import (
	"testing"

	"github.com/tally-health/tally/campaign"
)

// TestCheck: the shapes that could carry PHI are refused whatever the
// configuration, and ordinary campaign names pass. (Through the intake,
// with every encoding trick: intake/values_test.go and
// intake/campaign_bypass_test.go.)
func TestCheck(t *testing.T) {
	for _, ok := range []string{"spring_2026", "flu-shots", "Q4.brand", "cmp_42"} {
		if err := campaign.Check(ok); err != nil {
			t.Errorf("Check(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"jane@example.com", "jane＠example.com", "+15551234567", "MRN1234567", "2026-11-20",
		"https://example.com/x", "a b", "=cmd()", "@home", "a\u202eb", "a%40b", "\xff",
	} {
		if err := campaign.Check(bad); err == nil {
			t.Errorf("Check(%q) = nil, want a refusal", bad)
		}
	}
}
