package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/store"
)

func init() { register(newIngestCmd) }

func newIngestCmd(g *globalOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ingest FILE...",
		Short: "Import events (NDJSON, or CSV with a header row; - for stdin) through the intake pipeline",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if format != "" && format != "ndjson" && format != "csv" {
				return usageErr(fmt.Errorf("--format: want ndjson or csv, got %q", format))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return e.withIntake(cmd.Context(), e.openIntakeDB, func(_ *store.DB, in *intake.Intake) error {
				sum, err := in.ImportEventFiles(cmd.Context(), files, e.openInput, intake.ImportOptions{Format: format, Errors: e.stderr})
				if err == nil {
					fmt.Fprintln(e.stdout, sum)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "ndjson or csv (default: csv for *.csv files, else ndjson)")
	return cmd
}
