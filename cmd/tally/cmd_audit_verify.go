package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

// newAuditVerifyCmd is `tally audit verify [--head ID:HASH]`: the chain,
// then the anchor, then the tables against the chain.
func newAuditVerifyCmd(g *globalOptions) *cobra.Command {
	var head string
	cmd := &cobra.Command{
		Use:   "verify [--head ID:HASH]",
		Short: "Check the audit hash chain and the data it records: exit 0 when intact, 1 naming what is wrong",
		Long: `Check the audit log's hash chain, then that the data agrees with it:
each sealed day's daily_counts rows with the hash its seal recorded, each
upload request's body and answer with the hashes recorded when sent and
answered, each uploads row's acked, rejected and uncertain with what its
requests carried, each upload_uncertain row with its request, each purges
row with its purge entry, each sealed day's events with its seal's count,
each scan and its findings with its scan entry, and the key fingerprint
with the one recorded first. docs/SCHEMA.md says what it cannot see.

--head ID:HASH (as printed by 'tally audit head' or logged by 'tally run' as
audit_head) also checks that row ID still exists with that hash: a chain
rewritten or cut at or before it fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var anchor *store.Anchor
			if head != "" {
				a, err := store.ParseAnchor(head)
				if err != nil {
					return usageErr(fmt.Errorf("--head: %w", err))
				}
				anchor = &a
			}
			e, db, err := g.loadReadOnlyDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			return e.verifyAudit(cmd.Context(), db, anchor)
		},
	}
	cmd.Flags().StringVar(&head, "head", "", "an anchor ID:HASH noted earlier: fail unless that row is still in the chain with that hash")
	return cmd
}

// verifyAudit reads everything first, then checks the file did not change
// meanwhile (db.Stable), and only then reports.
func (e *env) verifyAudit(ctx context.Context, db *store.DB, anchor *store.Anchor) error {
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
		return failed("audit verify: chain broken at %v", chainErr)
	}
	if chainErr != nil {
		return chainErr
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d rows, head %d:%s\n", n, n, head)
	if anchor != nil {
		if errors.As(anchorErr, &ce) {
			return failed("audit verify: anchor %s: %v", anchor, anchorErr)
		}
		if anchorErr != nil {
			return anchorErr
		}
		fmt.Fprintf(e.stdout, "anchor %s: in the chain\n", anchor)
	}
	if dataErr != nil {
		return dataErr
	}
	for _, p := range data.Problems {
		fmt.Fprintf(e.stdout, "MISMATCH %s\n", termsafe.String(p.String()))
	}
	if len(data.Problems) > 0 {
		return failed("audit verify: %d problem(s) in the data, first: %s", len(data.Problems), data.Problems[0])
	}
	fmt.Fprintf(e.stdout, "data agrees with the audit log: %d sealed days, %d upload requests (%d pruned), %d uploads rows, %d purges\n",
		data.SealedDays, data.Requests, data.Pruned, data.Uploads, data.Purges)
	if data.UnhashedDays > 0 {
		fmt.Fprintf(e.stdout, "%d days were sealed before seals recorded a hash of their rows: not checked\n", data.UnhashedDays)
	}
	return nil
}

// newAuditHeadCmd is `tally audit head`: the anchor to note outside the file.
func newAuditHeadCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "head",
		Short: "Print the audit chain's last row as ID:HASH, to note outside the file (see 'audit verify --head')",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, db, err := g.loadReadOnlyDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			a, ok, err := db.AuditHead(cmd.Context())
			if serr := db.Stable(); serr != nil {
				return serr
			}
			if err != nil {
				return err
			}
			if !ok {
				return failed("audit head: the audit log is empty")
			}
			fmt.Fprintln(e.stdout, a)
			return nil
		},
	}
}

// auditClock tells a just-opened database whether this command runs as of
// --now, so its audit rows record that instant in as_of beside the wall
// clock (it passes Open's results through).
func (e *env) auditClock(db *store.DB, err error) (*store.DB, error) {
	if err == nil && e.asOf {
		db.SetAsOf(e.now()) // the --now instant: e.now is fixed to it
	}
	return db, err
}
