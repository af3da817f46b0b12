package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/scan"
	"github.com/tally-health/tally/store"
)

func init() { register(newScanCmd) }

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
			opts.UserAgent, opts.Log = fmt.Sprintf("tally-scan/%s (+https://github.com/tally-health/tally)", version), e.log
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
