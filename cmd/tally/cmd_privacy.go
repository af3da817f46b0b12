package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tally-health/tally"
	"github.com/tally-health/tally/privacy"
	"github.com/tally-health/tally/store"
)

// newPrivacyCmd is `tally privacy`: the privacy statement of sealed days.
func newPrivacyCmd(g *globalOptions) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "privacy [--from D --to D]",
		Short: "Print the privacy statement of sealed days: k, noise, ε, the per-visitor bound and their sum",
		Long: `Print each sealed day's privacy receipt (recorded when the day was
sealed): the threshold k, the noise, ε per cell, the per-visitor daily
bound L and the per-visitor ε of the day (L·ε under noise), then the
per-visitor ε over the period by basic composition (the sum over days).
Without noise a day is "threshold only, no ε". docs/PRIVACY.md says how to
check it against daily_counts. Default: the last 30 sealed days.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for flag, v := range map[string]string{"--from": from, "--to": to} {
				if _, err := tally.ParseDay(v); v != "" && err != nil {
					return usageErr(fmt.Errorf("privacy: %s: %w", flag, err))
				}
			}
			if from != "" && to != "" && from > to {
				return usageErr(fmt.Errorf("privacy: --from %s is after --to %s", from, to))
			}
			return g.report(cmd.Context(), func(e *env, db *store.DB) error {
				_, err := privacy.Run(cmd.Context(), db, tally.Day(from), tally.Day(to), e.stdout)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "first day (YYYY-MM-DD; default: the 30th most recent sealed day)")
	f.StringVar(&to, "to", "", "last day (YYYY-MM-DD; default: the most recent sealed day)")
	return cmd
}
