package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/spend"
)

// newSpendCmd is `tally spend` and its one subcommand, import.
func newSpendCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "spend", Short: "Record what the ad campaigns cost, for cost per conversion"}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE",
		Short: "Import ad spend from a CSV (day,platform,campaign,spend,currency; - for stdin)",
		Long: `Import ad spend: a CSV with the header ` + spend.Header + `,
one line per day, platform and campaign (docs/SPEND.md says how to make it
from each platform's ads manager). day is YYYY-MM-DD; platform is meta,
google, tiktok or linkedin; campaign is the value that arrives as
utm_campaign and passes the intake's campaign rules; spend is a decimal
with a point (12.50); currency an ISO 4217 code (EUR).

The whole file is checked first: a bad line is named and nothing of the
file is stored (exit 2). A day, platform and campaign already stored is
replaced. Each import writes one spend_import entry in the audit log.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.load()
			if err != nil {
				return err
			}
			r, err := e.openInput(args[0])
			if err != nil {
				return usageErr(fmt.Errorf("spend import: %w", err))
			}
			defer r.Close()
			db, err := e.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := spend.Import(cmd.Context(), db, r, e.now())
			if err != nil {
				return fmt.Errorf("spend import %s: %w", args[0], err)
			}
			fmt.Fprintf(e.stdout, "imported %d rows (%d new, %d replaced)", n.Inserted+n.Replaced, n.Inserted, n.Replaced)
			if n.From != "" {
				fmt.Fprintf(e.stdout, ", %s to %s", n.From, n.To)
			}
			fmt.Fprintln(e.stdout)
			return nil
		},
	})
	return cmd
}
