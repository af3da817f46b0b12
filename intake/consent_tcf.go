package intake

import (
	"errors"
	"fmt"

	"github.com/prebid/go-gdpr/consentconstants"
	tcf2 "github.com/prebid/go-gdpr/vendorconsent/tcf2"
)

// readTCF decodes an IAB TCF v2 TC string with github.com/prebid/go-gdpr
// and reports whether every purpose of consent.tcf_purposes is consented.
// The library refuses a vendor list version of 0 and strings too short for
// what they declare; a version other than 2 is refused here.
func readTCF(s string, purposes []int) (granted bool, err error) {
	defer func() {
		// A string the library did not foresee is an error, not a crash.
		if r := recover(); r != nil {
			granted, err = false, errors.New("the string could not be decoded")
		}
	}()
	tc, err := tcf2.ParseString(s)
	if err != nil {
		return false, err
	}
	if v := tc.Version(); v != 2 {
		return false, fmt.Errorf("TC string version %d is not 2", v)
	}
	granted = len(purposes) > 0
	for _, p := range purposes {
		if p < 1 || p > 24 || !tc.PurposeAllowed(consentconstants.Purpose(p)) {
			granted = false
		}
	}
	return granted, nil
}
