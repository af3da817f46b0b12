package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/tally-health/tally"
	"github.com/tally-health/tally/audit"
	"github.com/tally-health/tally/export"
	"github.com/tally-health/tally/report"
	"github.com/tally-health/tally/scan"
	"github.com/tally-health/tally/store"
)

func newExportCmd(g *globalOptions) *cobra.Command {
	var from, to, format, group string
	var opts export.Options
	cmd := &cobra.Command{
		Use:   "export [--from D --to D] [--group day|week|month] [--format csv|json] [-o FILE]",
		Short: "Write the counts of sealed days for marketers (CSV or JSON)",
		Long: `Write one row per sealed (day, platform, campaign, conversion) cell:
count is the released count, empty (null in JSON) when the cell is held or
suppressed. Platform "none" (events without a mapped source) is included.
After the first six columns: uncertain counts the cell's conversions sent
to GA4 in a request whose outcome is unknown (see tally upload
--resend-uncertain); carried_in names the days whose held counts were
carried into the cell (D or D1..D2); delivery is the released count's
upload state (sent, partial, pending, expired, uncertain, failed,
dry_run), empty when nothing released was queued for upload.

--group week|month sums each cell's released counts per ISO week (Monday
first) or calendar month; day is the period's first day. A period's status
is released when any of its days released a count, else its last day's
status (held or suppressed); carried_in names days before the period; delivery
is the least delivered state of its released days (failed, expired,
uncertain, partial, pending, dry_run, sent in that order).

--from and --to take a day (YYYY-MM-DD) or a month (YYYY-MM: its first
day for --from, its last for --to). Default: the last 30 sealed days.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.Format, err = export.ParseFormat(format); err != nil {
				return usageErr(fmt.Errorf("export: --format: %w", err))
			}
			if opts.Group, err = tally.ParseGroup(group); err != nil {
				return usageErr(fmt.Errorf("export: --group: want day, week or month, got %q", group))
			}
			if from != "" {
				if opts.From, err = tally.ParseFrom(from); err != nil {
					return usageErr(fmt.Errorf("export: --from: %w", err))
				}
			}
			if to != "" {
				if opts.To, err = tally.ParseTo(to); err != nil {
					return usageErr(fmt.Errorf("export: --to: %w", err))
				}
			}
			if opts.From != "" && opts.To != "" && opts.From > opts.To {
				return usageErr(fmt.Errorf("export: --from %s is after --to %s", opts.From, opts.To))
			}
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
	f.StringVar(&from, "from", "", "first day, YYYY-MM-DD, or YYYY-MM for the month's first (default: the 30th most recent sealed day)")
	f.StringVar(&to, "to", "", "last day, YYYY-MM-DD, or YYYY-MM for the month's last (default: the most recent sealed day)")
	f.StringVar(&group, "group", "day", "day, week or month: one row per cell and period")
	f.StringVar(&format, "format", "csv", "csv or json")
	f.StringVarP(&opts.File, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}

func newReportCmd(g *globalOptions) *cobra.Command {
	var from, to, group, out string
	cmd := &cobra.Command{
		Use:   "report [--from D --to D] [--group day|week|month] [-o FILE]",
		Short: "Write the campaign results page for marketers: one self-contained HTML file",
		Long: `Write one HTML page of the released conversions of sealed days: per
platform and per campaign, totals and a chart per day, week or month, cost
per conversion where spend is known, and what reached each platform. Held
and suppressed cells read "< k" (k the release threshold in force); no raw,
held or suppressed count is ever on the page. The file needs nothing else:
no script, no request, readable offline, from a mail attachment and on paper.

Days: --from D --to D (YYYY-MM-DD, or YYYY-MM for a whole month); --from
alone runs to the last sealed day, --to alone is the 30 days ending on it;
neither: the last 30 sealed days. A report covers at most three years.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := reportFlags(from, to, group)
			if err != nil {
				return usageErr(err)
			}
			if out == "" {
				return usageErr(errors.New("report: -o: want a file name"))
			}
			return g.report(cmd.Context(), func(e *env, db *store.DB) error {
				r, err := e.writeReport(cmd.Context(), db, opts, out)
				if err != nil {
					return err
				}
				if r.From == "" {
					fmt.Fprintf(e.stdout, "wrote %s: no day is sealed yet\n", out)
					return nil
				}
				fmt.Fprintf(e.stdout, "wrote %s: %s to %s by %s, %d sealed days\n", out, r.From, r.To, r.Group, r.SealedDays)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "first day (YYYY-MM-DD, or YYYY-MM: its first day)")
	f.StringVar(&to, "to", "", "last day (YYYY-MM-DD, or YYYY-MM: its last day)")
	f.StringVar(&group, "group", "day", "sum per day, week (ISO, from Monday) or month")
	f.StringVarP(&out, "output", "o", "tally-report.html", "the HTML file to write")
	return cmd
}

// writeReport builds the report of opts' period over db and writes it to
// path.
func (e *env) writeReport(ctx context.Context, db *store.DB, opts report.Options, path string) (*report.Report, error) {
	opts.Timezone, opts.Now, opts.Version = e.cfg.Rollup.Timezone, e.now(), version
	r, err := report.Build(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	return r, r.WriteFile(path)
}

// reportFlags reads the report's period flags.
func reportFlags(from, to, group string) (report.Options, error) {
	var opts report.Options
	var err error
	if opts.Group, err = tally.ParseGroup(group); err != nil {
		return opts, fmt.Errorf("report: --group: %w: want day, week or month", err)
	}
	if from != "" {
		if opts.From, err = tally.ParseFrom(from); err != nil {
			return opts, fmt.Errorf("report: --from: %w", err)
		}
	}
	if to != "" {
		if opts.To, err = tally.ParseTo(to); err != nil {
			return opts, fmt.Errorf("report: --to: %w", err)
		}
	}
	return opts, opts.Check()
}

// newAuditCmd is `tally audit` and its subcommands, each a report on the
// database opened read-only.
func newAuditCmd(g *globalOptions) *cobra.Command {
	var date, day, head string
	var anchor *store.Anchor
	cmd := &cobra.Command{Use: "audit", Short: "Check and print the hash-chained audit log"}
	verify := g.reportCmd("verify [--head ID:HASH]",
		"Check the audit hash chain and the data it records: exit 0 when intact, 1 naming what is wrong",
		func() error {
			if head == "" {
				return nil
			}
			a, err := store.ParseAnchor(head)
			if err != nil {
				return usageErr(fmt.Errorf("--head: %w", err))
			}
			anchor = &a
			return nil
		},
		func(ctx context.Context, db *store.DB, w io.Writer) error { return audit.Verify(ctx, db, anchor, w) })
	verify.Long = `Check the audit log's hash chain, then that the data agrees with it:
each sealed day's daily_counts rows with the hash its seal recorded, each
upload request's body and answer with the hashes recorded when sent and
answered, each uploads row's acked, rejected and uncertain with what its
requests carried, each upload_uncertain row with its request, each purges
row with its purge entry, each sealed day's events with its seal's count,
each scan and its findings with its scan entry, the spend table with the
hash its last import recorded, and the key fingerprint with the one
recorded first. docs/SCHEMA.md says what it cannot see.

--head ID:HASH (as printed by 'tally audit head' or logged by 'tally run' as
audit_head) also checks that row ID still exists with that hash: a chain
rewritten or cut at or before it fails.`
	verify.Flags().StringVar(&head, "head", "", "an anchor ID:HASH noted earlier: fail unless that row is still in the chain with that hash")
	headCmd := g.reportCmd("head", "Print the audit chain's last row as ID:HASH, to note outside the file (see 'audit verify --head')",
		nil, audit.Head)
	logCmd := g.reportCmd("log", "Print the audit log (optionally one day, UTC)",
		func() error {
			if _, err := tally.ParseDay(date); date != "" && err != nil {
				return usageErr(fmt.Errorf("--date: want YYYY-MM-DD, got %q", date))
			}
			return nil
		},
		func(ctx context.Context, db *store.DB, w io.Writer) error { return audit.Print(ctx, db, date, w) })
	logCmd.Flags().StringVar(&date, "date", "", "only entries written on this UTC day (YYYY-MM-DD)")
	recount := g.reportCmd("recount --date D", "Recompute a sealed day's raw counts from events and compare them with daily_counts",
		func() error {
			if _, err := tally.ParseDay(day); err != nil {
				return usageErr(fmt.Errorf("--date: want YYYY-MM-DD, got %q", day))
			}
			return nil
		},
		func(ctx context.Context, db *store.DB, w io.Writer) error {
			return audit.Recount(ctx, db, tally.Day(day), w)
		})
	recount.Flags().StringVar(&day, "date", "", "sealed day to recount (YYYY-MM-DD)")
	cmd.AddCommand(verify, headCmd, logCmd, recount)
	return cmd
}

// reportCmd is a subcommand without arguments: check reads its flags (nil:
// it has none), then print writes its report of the database, opened
// read-only, to standard output.
func (g *globalOptions) reportCmd(use, short string, check func() error, print func(context.Context, *store.DB, io.Writer) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if check != nil {
				if err := check(); err != nil {
					return err
				}
			}
			return g.report(cmd.Context(), func(e *env, db *store.DB) error { return print(cmd.Context(), db, e.stdout) })
		}}
}

func newScanCmd(g *globalOptions) *cobra.Command {
	var opts scan.Options
	var format, failOn string
	cmd := &cobra.Command{
		Use:   "scan URL|PATH...",
		Short: "Look for client-side tracking pixels on your own pages",
		Long: `Scan crawls each URL (same host only, following the same-host scripts each
page loads) or reads saved HTML files and folders, and reports every
tracking pixel found: page, tracker, account id, evidence and source.

Exit status: 0 clean, 1 trackers found (unless --fail-on none) or a target
could not be scanned, 2 bad usage, 3 incomplete: no tracker found, but a
page or script was cut at the 2 MiB cap (listed as truncated).

Findings are recorded in the database only when one is configured
explicitly, with --db or a config file; a plain scan writes nothing.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(errors.New("scan: give at least one URL or path"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, targets []string) error {
			var err error
			switch {
			case opts.MaxPages < 1:
				err = fmt.Errorf("scan: --max-pages: must be >= 1, got %d", opts.MaxPages)
			case opts.Depth < 0:
				err = fmt.Errorf("scan: --depth: must be >= 0, got %d", opts.Depth)
			case format != "text" && format != "json":
				err = fmt.Errorf("scan: --format: want text or json, got %q", format)
			case failOn != "any" && failOn != "none":
				err = fmt.Errorf("scan: --fail-on: want any or none, got %q", failOn)
			default:
				err = scan.CheckTargets(targets)
			}
			if err != nil {
				return usageErr(err)
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			if opts.Depth == 0 {
				opts.Depth = scan.NoDepth
			}
			opts.UserAgent, opts.Log = fmt.Sprintf("tally-scan/%s (+https://github.com/tally-health/tally)", currentBuild().Version), e.log
			started := e.now()
			res, err := scan.Run(cmd.Context(), targets, opts, format == "json", e.stdout)
			if err != nil {
				return err
			}
			if g.dbPath != "" || e.configFile != "" {
				if err := recordScan(cmd.Context(), e, started, targets, res); err != nil {
					return err
				}
			}
			return res.Verdict(failOn == "any")
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.MaxPages, "max-pages", 50, "page requests per start URL")
	f.IntVar(&opts.Depth, "depth", 2, "links followed from each start URL (0: the start page only)")
	f.StringVar(&format, "format", "text", "text or json")
	f.StringVar(&failOn, "fail-on", "any", "exit 1 when trackers are found (any) or never for findings (none)")
	f.BoolVar(&opts.IgnoreRobots, "ignore-robots", false, "crawl pages robots.txt disallows (your own site only)")
	return cmd
}

// recordScan adds the scan to the database configured explicitly.
func recordScan(ctx context.Context, e *env, started time.Time, targets []string, res scan.Result) error {
	rec := store.Scan{ScannedAt: started, Targets: targets, Pages: len(res.Pages), Scripts: res.Scripts,
		// A truncated page counts as skipped here, as it always has: the
		// table's column says how much of the scan was not fully checked.
		Skipped: len(res.Skipped) + len(res.Truncated), Failed: len(res.Failed)}
	for _, f := range res.Findings {
		rec.Findings = append(rec.Findings, store.ScanFinding{Page: f.Page, Tracker: f.Tracker, TrackerID: f.ID, Evidence: f.Evidence, Source: f.Source})
	}
	db, err := e.openDB(ctx)
	if err != nil {
		return fmt.Errorf("scan: record: %w", err)
	}
	defer db.Close()
	id, err := db.AddScan(ctx, rec)
	if err != nil {
		return fmt.Errorf("scan: record: %w", err)
	}
	e.log.Info("scan recorded", "scan_id", id, "findings", len(res.Findings))
	return nil
}
