package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

func init() { register(newExportCmd) }

// exportDays is how many of the most recent sealed days export shows by default.
const exportDays = 30

// exportHeader is the CSV header of DESIGN.md, with uncertain appended
// (issue 11) so that readers of the first six columns are not broken; the
// JSON keys are the same.
var exportHeader = []string{"day", "platform", "campaign", "conversion", "count", "status", "uncertain"}

type exportOptions struct {
	from, to, format, out string
}

// exportRow is one exported cell. Count is nil unless the cell was
// released. Uncertain is how many of its conversions went to a platform
// that does not deduplicate (GA4) in a request whose outcome is unknown: the
// platform's own figures may lack them.
type exportRow struct {
	Day        string `json:"day"`
	Platform   string `json:"platform"`
	Campaign   string `json:"campaign"`
	Conversion string `json:"conversion"`
	Count      *int64 `json:"count"`
	Status     string `json:"status"`
	Uncertain  int    `json:"uncertain"`
}

func newExportCmd(g *globalOptions) *cobra.Command {
	var opts exportOptions
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
			if opts.format != "csv" && opts.format != "json" {
				return usageErr(fmt.Errorf("export: --format: want csv or json, got %q", opts.format))
			}
			for flag, v := range map[string]string{"--from": opts.from, "--to": opts.to} {
				if v == "" {
					continue
				}
				if _, err := tally.ParseDay(v); err != nil {
					return usageErr(fmt.Errorf("export: %s: %w", flag, err))
				}
			}
			if opts.from != "" && opts.to != "" && opts.from > opts.to {
				return usageErr(fmt.Errorf("export: --from %s is after --to %s", opts.from, opts.to))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return runExport(cmd.Context(), e, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.from, "from", "", "first day (YYYY-MM-DD; default: the 30th most recent sealed day)")
	f.StringVar(&opts.to, "to", "", "last day (YYYY-MM-DD; default: the most recent sealed day)")
	f.StringVar(&opts.format, "format", "csv", "csv or json")
	f.StringVarP(&opts.out, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}

func runExport(ctx context.Context, e *env, opts exportOptions) error {
	db, err := e.openReadOnlyDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	from, to := tally.Day(opts.from), tally.Day(opts.to)
	if from == "" || to == "" {
		first, last, _, err := db.LastSealedDays(ctx, exportDays)
		if err != nil {
			return err
		}
		if from == "" {
			from = first
		}
		if to == "" {
			to = last
		}
	}
	var rows []exportRow
	if from != "" && to != "" {
		if rows, err = exportRows(ctx, db, from, to); err != nil {
			return err
		}
	}
	if err := db.Stable(); err != nil {
		return err
	}
	if opts.out == "" {
		return writeExport(e.stdout, opts.format, rows)
	}
	if err := writeFileAtomic(opts.out, func(w io.Writer) error { return writeExport(w, opts.format, rows) }); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(e.stderr, "wrote %d rows (%s to %s) to %s\n", len(rows), from, to, opts.out)
	return nil
}

// exportRows reads the cells of from..to with their uncertain counts.
func exportRows(ctx context.Context, db *store.DB, from, to tally.Day) ([]exportRow, error) {
	counts, err := db.DailyCounts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	uncertain, err := db.UncertainCounts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	rows := make([]exportRow, 0, len(counts))
	for _, r := range counts {
		x := toExportRow(r)
		x.Uncertain = uncertain[tally.Cell{Day: r.Day, Platform: r.Platform, Campaign: r.Campaign, Conversion: r.Conversion}]
		rows = append(rows, x)
	}
	return rows, nil
}

func toExportRow(r store.DailyCount) exportRow {
	// Escaped for whoever reads the export in a terminal or an editor:
	// intake refuses control and bidirectional characters, but a row
	// stored before it did may hold them.
	x := exportRow{Day: string(r.Day), Platform: termsafe.String(string(r.Platform)), Campaign: termsafe.String(r.Campaign), Conversion: termsafe.String(r.Conversion), Status: r.Status.String()}
	if r.Status == tally.Released {
		n := r.ReleasedCount
		x.Count = &n
	}
	return x
}

func writeExport(w io.Writer, format string, rows []exportRow) error {
	if format == "json" {
		if rows == nil {
			rows = []exportRow{} // [] rather than null
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(exportHeader); err != nil {
		return err
	}
	for _, x := range rows {
		count := ""
		if x.Count != nil {
			count = strconv.FormatInt(*x.Count, 10)
		}
		if err := cw.Write([]string{x.Day, x.Platform, x.Campaign, x.Conversion, count, x.Status, strconv.Itoa(x.Uncertain)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeFileAtomic writes path through a temporary file in the same folder,
// so a failed export never leaves a half-written file behind.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
