package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/privacy"
	"github.com/tally-health/tally/privacy/simulate"
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
	cmd.AddCommand(newSimulateCmd(g))
	return cmd
}

// newSimulateCmd is `tally privacy simulate`: the configured gate, and no
// gate for comparison, against a platform that knows each day's clickers.
func newSimulateCmd(g *globalOptions) *cobra.Command {
	var seed uint64
	var days int
	cmd := &cobra.Command{
		Use:   "simulate [--seed N] [--days N]",
		Short: "Run the configured release gate over simulated campaign-days against a platform that knows the clickers",
		Long: `Simulate one campaign at each traffic level (3, 10, 30, 100 clickers a
day, 5 % and 30 % of them converting) for --days days through the release
gate in [privacy] (the real gate code and noise sampler, on seeded bits),
then with no gate for comparison. Per level: the share of conversions
released, and the share of released cells that reveal every clicker of the
days they cover as a converter. The same --seed gives the same table.
No database is read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 1 || days > 100_000 {
				return usageErr(fmt.Errorf("privacy simulate: --days must be 1..100000, got %d", days))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			p := e.cfg.Privacy.GateParams()
			off := tally.GateParams{SmallCounts: tally.Suppress, Noise: tally.NoNoise, Epsilon: p.Epsilon}
			for _, run := range []struct {
				title string
				gate  tally.GateParams
			}{
				{fmt.Sprintf("configured gate: min_count %d, small_counts %s, carry_days %d, noise %s, epsilon %s; %d days, seed %d",
					p.MinCount, p.SmallCounts, p.CarryDays, p.Noise, p.Epsilon, days, seed), p},
				{"no gate (every count of 1 or more released as it is)", off},
			} {
				rs, err := simulate.Run(batch.Gate{GateParams: run.gate}, simulate.Levels, days, seed)
				if err != nil {
					return err
				}
				if err := simulate.Print(e.stdout, run.title, rs); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout)
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the simulated conversions and noise")
	cmd.Flags().IntVar(&days, "days", 365, "days simulated per level")
	return cmd
}
