package batch

import (
	"context"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Purged is what a retention purge did: the cutoff and each day whose
// events were deleted, with the count (also recorded in the purges table).
type Purged struct {
	// Cutoff is the first day kept: events of sealed days before it are gone.
	Cutoff tally.Day
	Days   []store.Purge
	Events int64
}

// Purge deletes the events of sealed days older than retentionDays, as of
// now in loc: with 35 days, on 2026-12-31 the events of 2026-11-25 and
// earlier go. Open days are never purged, and daily_counts is kept, so a
// purged day's released counts stay; only its recount from events ends.
func Purge(ctx context.Context, db *store.DB, retentionDays int, loc *time.Location, now time.Time) (Purged, error) {
	p := Purged{Cutoff: tally.DayOf(now, loc).Add(-retentionDays)}
	days, err := db.PurgeEvents(ctx, string(p.Cutoff), now)
	p.Days = days
	for _, d := range days {
		p.Events += d.Events
	}
	return p, err
}

// Pruned is what PruneHistory did: request and response bodies pruned from
// the upload ledger, and consent histories purged.
type Pruned struct {
	Ledger   store.LedgerPrune
	Consents store.ConsentPurge
}

// PruneHistory applies store.ledger_retention_days (bodies of requests
// sent more than ledgerDays before now; their hashes stay in the audit log)
// and store.consent_retention_days (the history of each visitor whose
// latest record is more than consentDays old). Each prune that removes
// something writes a purge entry to the audit log.
func PruneHistory(ctx context.Context, db *store.DB, ledgerDays, consentDays int, now time.Time) (Pruned, error) {
	var p Pruned
	var err error
	if p.Ledger, err = db.PruneLedger(ctx, now.AddDate(0, 0, -ledgerDays)); err != nil {
		return p, err
	}
	p.Consents, err = db.PurgeConsents(ctx, now.AddDate(0, 0, -consentDays))
	return p, err
}
