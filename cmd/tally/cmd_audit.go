package main

import (
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

func init() { register(newAuditCmd) }

func newAuditCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check and print the hash-chained audit log",
	}
	cmd.AddCommand(newAuditVerifyCmd(g), newAuditHeadCmd(g))
	var date string
	logCmd := &cobra.Command{
		Use:   "log",
		Short: "Print the audit log (optionally one day, UTC)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := tally.ParseDay(date); date != "" && err != nil {
				return usageErr(fmt.Errorf("--date: want YYYY-MM-DD, got %q", date))
			}
			e, db, err := g.loadReadOnlyDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			err = db.AuditEntries(cmd.Context(), date, func(a store.AuditEntry) error {
				// as_of shows only when the command ran as of --now: at is
				// always when the row was really written.
				asOf := ""
				if a.AsOf.Valid {
					asOf = "as_of=" + termsafe.String(a.AsOf.String) + "  "
				}
				_, err := fmt.Fprintf(e.stdout, "%6d  %s  %-15s %s  %s%s\n", a.ID, a.At, termsafe.String(a.Kind), a.Hash[:12], asOf, termsafe.String(a.Detail))
				return err
			})
			if serr := db.Stable(); serr != nil {
				return serr
			}
			return err
		},
	}
	logCmd.Flags().StringVar(&date, "date", "", "only entries written on this UTC day (YYYY-MM-DD)")
	cmd.AddCommand(logCmd, newRecountCmd(g))
	return cmd
}

func newRecountCmd(g *globalOptions) *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:   "recount --date D",
		Short: "Recompute a sealed day's raw counts from events and compare them with daily_counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			day, err := tally.ParseDay(date)
			if err != nil {
				return usageErr(fmt.Errorf("--date: want YYYY-MM-DD, got %q", date))
			}
			e, db, err := g.loadReadOnlyDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			cells, sealed, purged, err := db.RecountDay(cmd.Context(), day)
			if serr := db.Stable(); serr != nil {
				return serr
			}
			switch {
			case err != nil:
				return err
			case !sealed:
				return failed("audit recount: %s is not sealed", date)
			case purged:
				fmt.Fprintf(e.stdout, "%s: events purged past retention; nothing to recount (see the purges table)\n", date)
				return nil
			}
			bad := 0
			// Quoted like the CSV export, and escaped for the terminal:
			// a campaign holding a comma or a quote cannot shift columns.
			cw := csv.NewWriter(e.stdout)
			cw.Write([]string{"day", "platform", "campaign", "conversion", "stored", "counted", "result"})
			for _, c := range cells {
				result := "ok"
				if c.Stored != c.Counted {
					result = "MISMATCH"
					bad++
				}
				cw.Write([]string{string(c.Day), termsafe.String(string(c.Platform)), termsafe.String(c.Campaign), termsafe.String(c.Conversion),
					strconv.FormatInt(c.Stored, 10), strconv.FormatInt(c.Counted, 10), result})
			}
			if cw.Flush(); cw.Error() != nil {
				return fmt.Errorf("audit recount: %w", cw.Error())
			}
			if bad > 0 {
				return failed("audit recount: %d of %d cells on %s disagree with their events", bad, len(cells), date)
			}
			fmt.Fprintf(e.stdout, "%s: all %d cells agree with their events\n", date, len(cells))
			return nil
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "sealed day to recount (YYYY-MM-DD)")
	return cmd
}
