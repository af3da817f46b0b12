package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/store"
)

func init() { register(newConsentCmd) }

func newConsentCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Manage the consent registry",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE",
		Short: "Import consent records (NDJSON, - for stdin) from a consent-management export",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.load()
			if err != nil {
				return err
			}
			return e.withIntake(cmd.Context(), e.openDB, func(db *store.DB, in *intake.Intake) error {
				r, err := e.openInput(args[0])
				if err != nil {
					return fmt.Errorf("consent import: %w", err)
				}
				defer r.Close()
				n, err := in.ImportConsents(cmd.Context(), db, r, intake.ImportOptions{Name: args[0], Errors: e.stderr})
				fmt.Fprintf(e.stdout, "recorded %d, skipped %d (no %q purpose), invalid %d\n", n.Recorded, n.Skipped, e.cfg.Consent.Purpose, n.Invalid)
				if err != nil {
					return fmt.Errorf("consent import %s: %w", args[0], err)
				}
				return nil
			})
		},
	})
	return cmd
}
