// Package audit reads the audit log for the operator: it prints the log,
// checks the hash chain and the data the chain records, recounts a sealed
// day from its events, and names the chain's head to note outside the
// file. It only reads; every report checks db.Stable before it is trusted.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

// Verify checks the chain, then the anchor when one is given, then the
// tables against the chain, and writes what it found to w. It reads
// everything first, then checks the file did not change meanwhile
// (db.Stable), and only then reports. A broken chain, a missing anchor and
// every problem in the data are errors that name the first of them.
func Verify(ctx context.Context, db *store.DB, anchor *store.Anchor, w io.Writer) error {
	n, head, chainErr := db.VerifyAudit(ctx)
	var anchorErr error
	var data store.DataCheck
	var dataErr error
	if chainErr == nil {
		if anchor != nil {
			anchorErr = db.CheckAnchor(ctx, *anchor)
		}
		data, dataErr = db.VerifyData(ctx)
	}
	if err := db.Stable(); err != nil {
		return err
	}
	var ce *store.ChainError
	if errors.As(chainErr, &ce) {
		return fmt.Errorf("audit verify: chain broken at %v", chainErr)
	}
	if chainErr != nil {
		return chainErr
	}
	fmt.Fprintf(w, "audit log intact: %d rows, head %d:%s\n", n, n, head)
	if anchor != nil {
		if errors.As(anchorErr, &ce) {
			return fmt.Errorf("audit verify: anchor %s: %v", anchor, anchorErr)
		}
		if anchorErr != nil {
			return anchorErr
		}
		fmt.Fprintf(w, "anchor %s: in the chain\n", anchor)
	}
	if dataErr != nil {
		return dataErr
	}
	for _, p := range data.Problems {
		fmt.Fprintf(w, "MISMATCH %s\n", termsafe.String(p.String()))
	}
	if len(data.Problems) > 0 {
		return fmt.Errorf("audit verify: %d problem(s) in the data, first: %s", len(data.Problems), data.Problems[0])
	}
	fmt.Fprintf(w, "data agrees with the audit log: %d sealed days, %d upload requests (%d pruned), %d uploads rows, %d purges\n",
		data.SealedDays, data.Requests, data.Pruned, data.Uploads, data.Purges)
	if data.UnhashedDays > 0 {
		fmt.Fprintf(w, "%d days were sealed before seals recorded a hash of their rows: not checked\n", data.UnhashedDays)
	}
	if data.SpendRows > 0 {
		fmt.Fprintf(w, "spend: %d rows, as the last spend import left them\n", data.SpendRows)
	}
	return nil
}

// Head writes the chain's last row as ID:HASH, the anchor to note outside
// the file (see Verify). An empty log is an error.
func Head(ctx context.Context, db *store.DB, w io.Writer) error {
	a, ok, err := db.AuditHead(ctx)
	if serr := db.Stable(); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("audit head: the audit log is empty")
	}
	fmt.Fprintln(w, a)
	return nil
}
