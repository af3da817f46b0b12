package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/audit"
	"github.com/tally-health/tally/store"
)

func init() { register(newAuditCmd) }

// newAuditCmd is `tally audit` and its subcommands, each a report on the
// database opened read-only.
func newAuditCmd(g *globalOptions) *cobra.Command {
	var date, day, head string
	cmd := &cobra.Command{Use: "audit", Short: "Check and print the hash-chained audit log"}
	verify := &cobra.Command{
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
			return g.report(cmd.Context(), func(e *env, db *store.DB) error { return audit.Verify(cmd.Context(), db, anchor, e.stdout) })
		},
	}
	verify.Flags().StringVar(&head, "head", "", "an anchor ID:HASH noted earlier: fail unless that row is still in the chain with that hash")
	headCmd := &cobra.Command{
		Use:   "head",
		Short: "Print the audit chain's last row as ID:HASH, to note outside the file (see 'audit verify --head')",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.report(cmd.Context(), func(e *env, db *store.DB) error { return audit.Head(cmd.Context(), db, e.stdout) })
		},
	}
	logCmd := &cobra.Command{
		Use:   "log",
		Short: "Print the audit log (optionally one day, UTC)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := tally.ParseDay(date); date != "" && err != nil {
				return usageErr(fmt.Errorf("--date: want YYYY-MM-DD, got %q", date))
			}
			return g.report(cmd.Context(), func(e *env, db *store.DB) error { return audit.Print(cmd.Context(), db, date, e.stdout) })
		},
	}
	logCmd.Flags().StringVar(&date, "date", "", "only entries written on this UTC day (YYYY-MM-DD)")
	recount := &cobra.Command{
		Use:   "recount --date D",
		Short: "Recompute a sealed day's raw counts from events and compare them with daily_counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := tally.ParseDay(day); err != nil {
				return usageErr(fmt.Errorf("--date: want YYYY-MM-DD, got %q", day))
			}
			return g.report(cmd.Context(), func(e *env, db *store.DB) error { return audit.Recount(cmd.Context(), db, tally.Day(day), e.stdout) })
		},
	}
	recount.Flags().StringVar(&day, "date", "", "sealed day to recount (YYYY-MM-DD)")
	cmd.AddCommand(verify, headCmd, logCmd, recount)
	return cmd
}
