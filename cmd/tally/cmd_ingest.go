package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/intake"
)

func init() { register(newIngestCmd) }

// ingestChunk is how many lines go to the writer at once.
const ingestChunk = 500

type ingestOptions struct {
	format string
}

func newIngestCmd(g *globalOptions) *cobra.Command {
	var opts ingestOptions
	cmd := &cobra.Command{
		Use:   "ingest FILE...",
		Short: "Import events (NDJSON, or CSV with a header row; - for stdin) through the intake pipeline",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.format != "" && opts.format != "ndjson" && opts.format != "csv" {
				return usageErr(fmt.Errorf("--format: want ndjson or csv, got %q", opts.format))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return runIngest(cmd.Context(), e, opts, args)
		},
	}
	cmd.Flags().StringVar(&opts.format, "format", "", "ndjson or csv (default: csv for *.csv files, else ndjson)")
	return cmd
}

func runIngest(ctx context.Context, e *env, opts ingestOptions, files []string) error {
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
		sum, err := ingestFile(ctx, e, in, opts, name)
		total.Add(sum)
		if err != nil {
			return fmt.Errorf("ingest %s: %w", name, err)
		}
	}
	fmt.Fprintln(e.stdout, formatSummary(total))
	return nil
}

// ingestFile imports one file in chunks; a bad line is reported on stderr
// with its number and counted as invalid, and the file goes on.
func ingestFile(ctx context.Context, e *env, in *intake.Intake, opts ingestOptions, name string) (intake.Summary, error) {
	r, err := e.openInput(name)
	if err != nil {
		return intake.NewSummary(), err
	}
	defer r.Close()
	sum := intake.NewSummary()
	var raws []json.RawMessage
	var lines []int
	var readErrs []error // the reader's own verdict on a line, nil when none
	flush := func() error {
		if len(raws) == 0 {
			return nil
		}
		s, err := in.Process(ctx, raws, false, true)
		if err != nil {
			return err
		}
		for _, inv := range s.Invalid {
			msg := inv.Error
			if err := readErrs[inv.Index]; err != nil {
				msg = err.Error()
			}
			fmt.Fprintf(e.stderr, "%s: line %d: %s\n", name, lines[inv.Index], msg)
		}
		sum.Add(s)
		raws, lines, readErrs = raws[:0], lines[:0], readErrs[:0]
		return nil
	}
	each := func(rec intake.Record) error {
		raw := rec.Raw
		if rec.Err != nil {
			// Let the pipeline count it as invalid; the reader's error
			// (malformed, too long) is what stderr shows for the line.
			raw = json.RawMessage("!")
		}
		raws = append(raws, raw)
		lines = append(lines, rec.Line)
		readErrs = append(readErrs, rec.Err)
		if len(raws) >= ingestChunk {
			return flush()
		}
		return nil
	}
	format := opts.format
	if format == "" {
		format = "ndjson"
		if strings.EqualFold(filepath.Ext(name), ".csv") {
			format = "csv"
		}
	}
	if format == "csv" {
		err = intake.ReadEventCSV(r, each)
	} else {
		err = intake.ReadNDJSON(r, each)
	}
	if err != nil {
		return sum, err
	}
	return sum, flush()
}

// formatSummary prints outcomes in a fixed order, drop reasons sorted.
func formatSummary(s intake.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "accepted %d, duplicate %d, invalid %d", s.Accepted, s.Duplicates, len(s.Invalid))
	reasons := make([]tally.Reason, 0, len(s.Dropped))
	dropped := 0
	for r, n := range s.Dropped {
		reasons = append(reasons, r)
		dropped += n
	}
	slices.SortFunc(reasons, func(a, b tally.Reason) int { return strings.Compare(a.String(), b.String()) })
	fmt.Fprintf(&b, ", dropped %d", dropped)
	for _, r := range reasons {
		fmt.Fprintf(&b, " %s=%d", r, s.Dropped[r])
	}
	return b.String()
}
