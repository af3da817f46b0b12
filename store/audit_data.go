package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// DataProblem is one place where a table disagrees with the audit log.
type DataProblem struct {
	Table  string
	Key    string // the row or day concerned
	Reason string
}

func (p DataProblem) String() string { return p.Table + " " + p.Key + ": " + p.Reason }

// DataCheck is what VerifyData compared and what disagreed.
type DataCheck struct {
	SealedDays   int // days whose daily_counts rows matched their seal's hash
	UnhashedDays int // days sealed before seals recorded a hash: not checked
	Requests     int // upload_requests rows checked
	Pruned       int // of them, rows whose bodies were pruned (hashes not rechecked)
	Uploads      int // uploads rows checked against their requests
	Purges       int // purges rows matched to their audit entries
	SpendRows    int // spend rows matched to the last spend_import's hash
	Receipts     int // privacy_receipts rows matched to their seals
	Problems     []DataProblem
}

func (c *DataCheck) problem(table, key, format string, args ...any) {
	c.Problems = append(c.Problems, DataProblem{Table: table, Key: key, Reason: fmt.Sprintf(format, args...)})
}

// auditDetail holds the detail fields the data checks read, of every kind.
type auditDetail struct {
	Day               string   `json:"day"`
	Events            *int64   `json:"events"`
	DailyCountsSHA256 *string  `json:"daily_counts_sha256"`
	Privacy           *Receipt `json:"privacy"`
	RequestID         *int64   `json:"request_id"`
	Platform          string   `json:"platform"`
	URL               string   `json:"url"`
	Conversions       int64    `json:"conversions"`
	BodySHA256        string   `json:"body_sha256"`
	Status            int64    `json:"status"`
	ResponseSHA256    string   `json:"response_sha256"`
	Outcome           string   `json:"outcome"`
	ResendsUncertain  []int64  `json:"resends_uncertain"`
	Table             string   `json:"table"`
	PrunedAt          string   `json:"pruned_at"`
	Requests          int64    `json:"requests"`
	FirstID           int64    `json:"first_id"`
	LastID            int64    `json:"last_id"`
}

// auditIndex is the audit log's entries by what they describe.
type auditIndex struct {
	seals        map[string]auditDetail   // by day
	requests     map[int64]auditDetail    // upload_request, by request id
	answers      map[int64]auditDetail    // upload_answer, by request id
	purges       map[string]int           // event purges: "day|events" -> entries
	pruned       map[string][]auditDetail // ledger prunes, by pruned_at
	purgedEvents map[string]int64         // events purged, by day
	// fingerprints are the key_fingerprint entries' fingerprints, by row id.
	fingerprints map[int64]string
	fingerprint  string // the first of them, "" when none
}

func (db *DB) indexAudit(ctx context.Context) (auditIndex, error) {
	ix := auditIndex{seals: map[string]auditDetail{}, requests: map[int64]auditDetail{},
		answers: map[int64]auditDetail{}, purges: map[string]int{}, pruned: map[string][]auditDetail{},
		purgedEvents: map[string]int64{}, fingerprints: map[int64]string{}}
	err := db.AuditEntries(ctx, "", func(e AuditEntry) error {
		switch e.Kind {
		case AuditRollup, AuditUploadRequest, AuditUploadAnswer, AuditPurge:
		case AuditKeyFingerprint:
			fp, err := fingerprintOf(e.Detail)
			if err != nil {
				return fmt.Errorf("store: audit row %d: detail: %w", e.ID, err)
			}
			if ix.fingerprint == "" {
				ix.fingerprint = fp
			}
			ix.fingerprints[e.ID] = fp
			return nil
		default:
			return nil
		}
		var d auditDetail
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
			return fmt.Errorf("store: audit row %d: detail: %w", e.ID, err)
		}
		switch {
		case e.Kind == AuditRollup:
			ix.seals[d.Day] = d
		case e.Kind == AuditUploadRequest && d.RequestID != nil:
			ix.requests[*d.RequestID] = d
		case e.Kind == AuditUploadAnswer && d.RequestID != nil:
			ix.answers[*d.RequestID] = d
		case e.Kind == AuditPurge && d.Table == "" && d.Events != nil:
			ix.purges[fmt.Sprintf("%s|%d", d.Day, *d.Events)]++
			ix.purgedEvents[d.Day] += *d.Events
		case e.Kind == AuditPurge && d.Table == ledgerTable:
			ix.pruned[d.PrunedAt] = append(ix.pruned[d.PrunedAt], d)
		}
		return nil
	})
	return ix, err
}

// VerifyData checks the tables an auditor relies on against the audit log
// (run VerifyAudit first: this trusts the chain): each sealed day's
// daily_counts rows against the hash its seal recorded, each request's body
// and answer against their recorded hashes, each uploads row's acked,
// rejected and uncertain against what its requests carried, each
// upload_uncertain row against its request, each purges row against its
// purge entry, each privacy receipt against its seal's entry, the key
// fingerprint against its entry, the spend table against the last spend
// import's hash, and that sealed days
// stay sealed, no consent purge mark is left and no sent cell lost its
// uploads row. Every disagreement is a Problem; err is for I/O only.
func (db *DB) VerifyData(ctx context.Context) (DataCheck, error) {
	var c DataCheck
	ix, err := db.indexAudit(ctx)
	if err != nil {
		return c, err
	}
	for _, check := range []func(context.Context, auditIndex, *DataCheck) error{
		db.checkDailyCounts, db.checkRequests, db.checkUploads, db.checkUncertain, db.checkPurges,
		db.checkKeyFingerprint, db.checkState, db.checkEvents, db.checkScans, db.checkSpend, db.checkReceipts,
	} {
		if err := check(ctx, ix, &c); err != nil {
			return c, err
		}
	}
	return c, nil
}
