package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/export"
	"github.com/tally-health/tally/store"
)

func init() { register(newExportCmd) }

func newExportCmd(g *globalOptions) *cobra.Command {
	var from, to, format string
	var opts export.Options
	cmd := &cobra.Command{
		Use:   "export [--from D --to D] [--format csv|json] [-o FILE]",
		Short: "Write the daily counts of sealed days for marketers (CSV or JSON)",
		Long: `Write one row per sealed (day, platform, campaign, conversion) cell:
count is the released count, empty (null in JSON) when the cell is held or
suppressed. Platform "none" (events without a mapped source) is included.
The last column, uncertain, counts the cell's conversions sent to GA4 in a
request whose outcome is unknown (see tally upload --resend-uncertain).
Default: the last 30 sealed days.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.Format, err = export.ParseFormat(format); err != nil {
				return usageErr(fmt.Errorf("export: --format: %w", err))
			}
			for flag, v := range map[string]string{"--from": from, "--to": to} {
				if _, err := tally.ParseDay(v); v != "" && err != nil {
					return usageErr(fmt.Errorf("export: %s: %w", flag, err))
				}
			}
			if from != "" && to != "" && from > to {
				return usageErr(fmt.Errorf("export: --from %s is after --to %s", from, to))
			}
			opts.From, opts.To = tally.Day(from), tally.Day(to)
			return g.report(cmd.Context(), func(e *env, db *store.DB) error {
				w, err := export.Run(cmd.Context(), db, opts, e.stdout)
				if err == nil && opts.File != "" {
					fmt.Fprintf(e.stderr, "wrote %d rows (%s to %s) to %s\n", w.Rows, w.From, w.To, opts.File)
				}
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "first day (YYYY-MM-DD; default: the 30th most recent sealed day)")
	f.StringVar(&to, "to", "", "last day (YYYY-MM-DD; default: the most recent sealed day)")
	f.StringVar(&format, "format", "csv", "csv or json")
	f.StringVarP(&opts.File, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}
