package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/intake"
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
			return runConsentImport(cmd.Context(), e, args[0])
		},
	})
	return cmd
}

func runConsentImport(ctx context.Context, e *env, name string) error {
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return err
	}
	defer in.Writer.Close()
	r, err := e.openInput(name)
	if err != nil {
		return fmt.Errorf("consent import: %w", err)
	}
	defer r.Close()
	n, err := in.ImportConsents(ctx, db, r, intake.ImportOptions{Name: name, Errors: e.stderr})
	fmt.Fprintf(e.stdout, "recorded %d, skipped %d (no %q purpose), invalid %d\n", n.Recorded, n.Skipped, e.cfg.Consent.Purpose, n.Invalid)
	if err != nil {
		return fmt.Errorf("consent import %s: %w", name, err)
	}
	return nil
}
