package intake

import "context"

// consented is decide's consent check: the event's own consent strings do
// not withdraw, and the visitor's latest record at the event for each
// required purpose (consent.purpose, and health_data under
// consent.require_sensitive) is a grant no older than consent.max_age.
// A withdrawal of any one purpose withdraws.
func consented(ctx context.Context, tx Tx, r Rules, c Candidate) (bool, error) {
	if c.Withdrawn {
		return false, nil
	}
	purposes := []string{r.ConsentPurpose}
	if r.RequireSensitive {
		purposes = append(purposes, SensitivePurpose)
	}
	for _, purpose := range purposes {
		granted, since, err := tx.Consent(ctx, c.VisitorKey, purpose, c.At)
		if err != nil || !granted || c.At.Sub(since) > r.MaxConsentAge {
			return false, err
		}
	}
	return true, nil
}
