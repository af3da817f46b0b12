package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/intake"
)

func init() { register(newIngestCmd) }

func newIngestCmd(g *globalOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ingest FILE...",
		Short: "Import events (NDJSON, or CSV with a header row; - for stdin) through the intake pipeline",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "ndjson" && format != "csv" {
				return usageErr(fmt.Errorf("--format: want ndjson or csv, got %q", format))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return runIngest(cmd.Context(), e, format, args)
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "ndjson or csv (default: csv for *.csv files, else ndjson)")
	return cmd
}

func runIngest(ctx context.Context, e *env, format string, files []string) error {
	db, err := e.openIntakeDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return err
	}
	defer in.Writer.Close()
	total := intake.NewSummary()
	for _, name := range files {
		r, err := e.openInput(name)
		if err != nil {
			return fmt.Errorf("ingest %s: %w", name, err)
		}
		sum, err := in.ImportEvents(ctx, r, intake.ImportOptions{Name: name, Format: format, Errors: e.stderr})
		r.Close()
		total.Add(sum)
		if err != nil {
			return fmt.Errorf("ingest %s: %w", name, err)
		}
	}
	fmt.Fprintln(e.stdout, total)
	return nil
}
