package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/scan"
	"github.com/tally-health/tally/store"
)

func init() { register(newScanCmd) }

// exitIncomplete is scan's exit status when a page or script was cut at
// the byte cap and no tracker was found: "clean" cannot be claimed.
const exitIncomplete = 3

type scanOptions struct {
	maxPages     int
	depth        int
	format       string
	failOn       string
	ignoreRobots bool
}

func newScanCmd(g *globalOptions) *cobra.Command {
	var opts scanOptions
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(args); err != nil {
				return usageErr(err)
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return runScan(cmd.Context(), e, opts, args, g.dbPath != "" || e.configFile != "")
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.maxPages, "max-pages", 50, "page requests per start URL")
	f.IntVar(&opts.depth, "depth", 2, "links followed from each start URL (0: the start page only)")
	f.StringVar(&opts.format, "format", "text", "text or json")
	f.StringVar(&opts.failOn, "fail-on", "any", "exit 1 when trackers are found (any) or never for findings (none)")
	f.BoolVar(&opts.ignoreRobots, "ignore-robots", false, "crawl pages robots.txt disallows (your own site only)")
	return cmd
}

// validate checks flags and targets before anything is fetched.
func (o scanOptions) validate(targets []string) error {
	switch {
	case o.maxPages < 1:
		return fmt.Errorf("scan: --max-pages: must be >= 1, got %d", o.maxPages)
	case o.depth < 0:
		return fmt.Errorf("scan: --depth: must be >= 0, got %d", o.depth)
	case o.format != "text" && o.format != "json":
		return fmt.Errorf("scan: --format: want text or json, got %q", o.format)
	case o.failOn != "any" && o.failOn != "none":
		return fmt.Errorf("scan: --fail-on: want any or none, got %q", o.failOn)
	}
	for _, t := range targets {
		if scan.IsURL(t) {
			if u, err := url.Parse(t); err != nil || u.Host == "" {
				return fmt.Errorf("scan: %q: not a URL with a host", t)
			}
			continue
		}
		if strings.Contains(t, "://") {
			return fmt.Errorf("scan: %q: only http and https URLs can be scanned", t)
		}
		if _, err := os.Stat(t); err != nil {
			return fmt.Errorf("scan: %q: not a URL, and no such file or folder", t)
		}
	}
	return nil
}

func runScan(ctx context.Context, e *env, opts scanOptions, targets []string, record bool) error {
	started := e.now()
	depth := opts.depth
	if depth == 0 {
		depth = scan.NoDepth
	}
	s := scan.New(scan.Options{
		MaxPages:     opts.maxPages,
		Depth:        depth,
		IgnoreRobots: opts.ignoreRobots,
		UserAgent:    fmt.Sprintf("tally-scan/%s (+https://github.com/tally-health/tally)", version),
		Log:          e.log,
	})
	res, err := s.Scan(ctx, targets)
	if err != nil {
		return err
	}
	if opts.format == "json" {
		err = writeScanJSON(e.stdout, res)
		for _, sk := range res.Skipped {
			e.log.Warn("scan not checked", "url", sk.URL, "reason", sk.Reason)
		}
	} else {
		err = writeScanText(e.stdout, res, opts.maxPages)
	}
	if err != nil {
		return fmt.Errorf("scan: write: %w", err)
	}
	if record {
		id, err := recordScan(ctx, e, started, targets, res)
		if err != nil {
			return err
		}
		e.log.Info("scan recorded", "scan_id", id, "findings", len(res.Findings))
	}
	return scanOutcome(res, opts.failOn)
}

// scanOutcome turns a result into the exit status: a target that could not
// be scanned is a failure whatever --fail-on says, since it proves nothing;
// a page or script cut at the byte cap makes a scan without findings
// incomplete (exit 3), since a tracker may sit past the cut.
func scanOutcome(res scan.Result, failOn string) error {
	var msgs []string
	if n := len(res.Findings); n > 0 && failOn == "any" {
		msgs = append(msgs, fmt.Sprintf("found %d trackers on %d pages", n, pagesWithFindings(res.Findings)))
	}
	for _, f := range res.Failed {
		msgs = append(msgs, fmt.Sprintf("could not scan %s: %s", f.URL, f.Reason))
	}
	if len(msgs) > 0 {
		return failed("scan: %s", strings.Join(msgs, "; "))
	}
	if n := len(res.Truncated); n > 0 && len(res.Findings) == 0 {
		return &codeError{code: exitIncomplete, err: fmt.Errorf(
			"scan: incomplete: %d pages or scripts truncated at the byte cap; no tracker found in what was read", n)}
	}
	return nil
}

func recordScan(ctx context.Context, e *env, started time.Time, targets []string, res scan.Result) (int64, error) {
	db, err := e.openDB(ctx)
	if err != nil {
		return 0, fmt.Errorf("scan: record: %w", err)
	}
	defer db.Close()
	rec := store.Scan{
		ScannedAt: started,
		Targets:   targets,
		Pages:     len(res.Pages),
		Scripts:   res.Scripts,
		// A truncated page counts as skipped here, as it always has: the
		// table's column says how much of the scan was not fully checked.
		Skipped: len(res.Skipped) + len(res.Truncated),
		Failed:  len(res.Failed),
	}
	for _, f := range res.Findings {
		rec.Findings = append(rec.Findings, store.ScanFinding{
			Page: f.Page, Tracker: f.Tracker, TrackerID: f.ID, Evidence: f.Evidence, Source: f.Source,
		})
	}
	id, err := db.AddScan(ctx, rec)
	if err != nil {
		return 0, fmt.Errorf("scan: record: %w", err)
	}
	return id, nil
}

// scanReport is the JSON output: the findings, and everything that makes
// a scan less than complete, so a machine reading it can tell "clean" from
// "not fully checked". Lists are [] when empty, never null.
type scanReport struct {
	Findings   []scan.Finding `json:"findings"`
	Truncated  []string       `json:"truncated"`
	NotChecked []scanSkip     `json:"not_checked"`
	Failed     []scanSkip     `json:"failed"`
	Pages      int            `json:"pages_read"`
	Scripts    int            `json:"scripts_read"`
	Unvisited  int            `json:"unvisited"`
}

type scanSkip struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

func scanSkips(sks []scan.Skip) []scanSkip {
	out := []scanSkip{}
	for _, sk := range sks {
		out = append(out, scanSkip{URL: sk.URL, Reason: sk.Reason})
	}
	return out
}

// writeScanJSON writes the scan report as one JSON object.
func writeScanJSON(w io.Writer, res scan.Result) error {
	rep := scanReport{
		Findings:   append([]scan.Finding{}, res.Findings...),
		Truncated:  append([]string{}, res.Truncated...),
		NotChecked: scanSkips(res.Skipped),
		Failed:     scanSkips(res.Failed),
		Pages:      len(res.Pages),
		Scripts:    res.Scripts,
		Unvisited:  res.Unvisited,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeScanText writes findings grouped by page, then what was not
// checked, then a one-line summary.
func writeScanText(w io.Writer, res scan.Result, maxPages int) error {
	var b strings.Builder
	page := ""
	for _, f := range res.Findings {
		if f.Page != page {
			if page != "" {
				b.WriteByte('\n')
			}
			page = f.Page
			fmt.Fprintln(&b, page)
		}
		id := f.ID
		if id == "" {
			id = "(no id visible)"
		}
		where := f.Source
		if f.Source == f.Page {
			where = "this page"
		}
		fmt.Fprintf(&b, "  %-19s %s\n      %s  (%s)\n", f.Tracker, id, f.Evidence, where)
	}
	if len(res.Findings) > 0 {
		b.WriteByte('\n')
	}
	if len(res.Skipped) > 0 || res.Unvisited > 0 {
		fmt.Fprintln(&b, "not checked:")
		for _, sk := range res.Skipped {
			fmt.Fprintf(&b, "  %s: %s\n", sk.URL, sk.Reason)
		}
		if res.Unvisited > 0 {
			fmt.Fprintf(&b, "  %d more pages beyond --max-pages %d\n", res.Unvisited, maxPages)
		}
	}
	if len(res.Truncated) > 0 {
		fmt.Fprintf(&b, "truncated at the %d-byte cap (a tracker past the cut is not seen):\n", scan.DefaultMaxBytes)
		for _, u := range res.Truncated {
			fmt.Fprintf(&b, "  %s\n", u)
		}
	}
	for _, f := range res.Failed {
		fmt.Fprintf(&b, "could not scan %s: %s\n", f.URL, f.Reason)
	}
	if n := len(res.Findings); n > 0 {
		fmt.Fprintf(&b, "found %d trackers (%d kinds) on %d of %d pages read; %d scripts read\n",
			n, trackerKinds(res.Findings), pagesWithFindings(res.Findings), len(res.Pages), res.Scripts)
	} else {
		fmt.Fprintf(&b, "no trackers found on %d pages read; %d scripts read\n", len(res.Pages), res.Scripts)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pagesWithFindings(fs []scan.Finding) int {
	pages := map[string]bool{}
	for _, f := range fs {
		pages[f.Page] = true
	}
	return len(pages)
}

func trackerKinds(fs []scan.Finding) int {
	kinds := map[string]bool{}
	for _, f := range fs {
		kinds[f.Tracker] = true
	}
	return len(kinds)
}
