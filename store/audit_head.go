package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Anchor is an audit row's id and hash noted outside the file (a SIEM, a
// ticket, an auditor's report), written ID:HASH. A chain that still holds
// that row with that hash was not rewritten up to it.
type Anchor struct {
	ID   int64
	Hash string
}

func (a Anchor) String() string { return strconv.FormatInt(a.ID, 10) + ":" + a.Hash }

var (
	anchorID   = regexp.MustCompile(`^[0-9]{1,19}$`)
	anchorHash = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ParseAnchor reads ID:HASH (a positive decimal row id, 64 hex digits). A
// hash is the same in either case and blanks around the whole value are
// a copy-and-paste artefact, so both are forgiven; anything else (a sign,
// blanks inside, another separator) is refused.
func ParseAnchor(s string) (Anchor, error) {
	idText, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	hash = strings.ToLower(hash)
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || !anchorID.MatchString(idText) || err != nil || id < 1 || !anchorHash.MatchString(hash) {
		return Anchor{}, fmt.Errorf("want ID:HASH (row id, 64 hex digits) as `tally audit head` prints, got %q", s)
	}
	return Anchor{ID: id, Hash: hash}, nil
}

// AuditHead returns the last row of the chain as an Anchor; ok is false
// when the log is empty.
func (db *DB) AuditHead(ctx context.Context) (a Anchor, ok bool, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&a.ID, &a.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Anchor{}, false, nil
	}
	if err != nil {
		return Anchor{}, false, fmt.Errorf("store: audit head: %w", err)
	}
	return a, true, nil
}

// CheckAnchor checks that row a.ID still exists, that its content still
// hashes to a.Hash, and that the stored hash is a.Hash. Run it after
// VerifyAudit: with the chain intact from row 1, a matching anchor means
// no row up to it was changed, deleted, reordered or rewritten, and the
// chain was not cut before it. A mismatch is a *ChainError.
func (db *DB) CheckAnchor(ctx context.Context, a Anchor) error {
	var e AuditEntry
	err := db.r.QueryRowContext(ctx, `SELECT id, at, as_of, kind, detail, prev_hash, hash FROM audit_log WHERE id = ?`, a.ID).
		Scan(&e.ID, &e.At, &e.AsOf, &e.Kind, &e.Detail, &e.PrevHash, &e.Hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &ChainError{ID: a.ID, Reason: "the anchored row is missing: the chain was cut or rows were deleted"}
	case err != nil:
		return fmt.Errorf("store: audit anchor: %w", err)
	case e.Hash != a.Hash:
		return &ChainError{ID: a.ID, Reason: "its hash is not the anchored one: the chain up to it was rewritten"}
	case auditHash(e.PrevHash, e.ID, e.At, e.AsOf, e.Kind, e.Detail) != a.Hash:
		return &ChainError{ID: a.ID, Reason: "its content does not hash to the anchored hash: the row was edited"}
	}
	return nil
}
