package intake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// eventChunk is how many lines go to the writer at once.
const eventChunk = 500

// consentChunk is how many consent records are committed per transaction.
const consentChunk = 1000

// ImportOptions name an import file and where its bad lines are reported.
type ImportOptions struct {
	// Name is the file's name in messages ("-" for stdin).
	Name string
	// Format is "ndjson" or "csv"; empty picks csv for a *.csv Name,
	// else ndjson.
	Format string
	// Errors receives one line per bad record: "<name>: line <n>: <why>",
	// never the line's content.
	Errors io.Writer
}

// format is the reader Format selects.
func (o ImportOptions) format() string {
	if o.Format == "" && strings.EqualFold(filepath.Ext(o.Name), ".csv") {
		return "csv"
	}
	if o.Format == "" {
		return "ndjson"
	}
	return o.Format
}

// ImportEvents reads events from r (NDJSON, or CSV with a header row) and
// submits them in chunks, waiting when the writer is busy. A bad line is
// reported with its number and counted as invalid, and the import goes on.
// The summary counts every chunk committed, also when an error ends it.
func (in *Intake) ImportEvents(ctx context.Context, r io.Reader, opt ImportOptions) (Summary, error) {
	sum := NewSummary()
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
			fmt.Fprintf(opt.Errors, "%s: line %d: %s\n", opt.Name, lines[inv.Index], msg)
		}
		sum.Add(s)
		raws, lines, readErrs = raws[:0], lines[:0], readErrs[:0]
		return nil
	}
	each := func(rec Record) error {
		raw := rec.Raw
		if rec.Err != nil {
			// Let the pipeline count it as invalid; the reader's error
			// (malformed, too long) is what Errors shows for the line.
			raw = json.RawMessage("!")
		}
		raws = append(raws, raw)
		lines = append(lines, rec.Line)
		readErrs = append(readErrs, rec.Err)
		if len(raws) >= eventChunk {
			return flush()
		}
		return nil
	}
	read := ReadNDJSON
	if opt.format() == "csv" {
		read = ReadEventCSV
	}
	if err := read(r, each); err != nil {
		return sum, err
	}
	return sum, flush()
}

// ImportEventFiles imports the named files one after another, opening
// each with open, and returns the combined summary. An error names the
// file it stopped at. opt.Name is set to each file's name.
func (in *Intake) ImportEventFiles(ctx context.Context, names []string, open func(name string) (io.ReadCloser, error), opt ImportOptions) (Summary, error) {
	total := NewSummary()
	for _, name := range names {
		opt.Name = name
		sum, err := in.importEventFile(ctx, open, opt)
		total.Add(sum)
		if err != nil {
			return total, fmt.Errorf("ingest %s: %w", name, err)
		}
	}
	return total, nil
}

func (in *Intake) importEventFile(ctx context.Context, open func(name string) (io.ReadCloser, error), opt ImportOptions) (Summary, error) {
	r, err := open(opt.Name)
	if err != nil {
		return NewSummary(), err
	}
	defer r.Close()
	return in.ImportEvents(ctx, r, opt)
}

// String prints the outcomes in a fixed order, drop reasons sorted, as
// the import commands and the demo show them.
func (s Summary) String() string {
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

// ConsentImportStore records consents and the import's audit entry.
type ConsentImportStore interface {
	ConsentStore
	Auditor
}

// ConsentCounts is what a consent import did with its records.
type ConsentCounts struct {
	// Recorded: records added (one repeating its visitor's latest state
	// adds no row and is not counted).
	Recorded int
	// Skipped: records that say nothing about the configured purpose.
	Skipped int
	// Invalid: lines that could not be read or decoded.
	Invalid int
}

// ImportConsents reads consent records (NDJSON, as a consent-management
// tool exports them, or CSV with a header row, as a booking system does)
// from r and commits them in chunks; a bad line is
// reported with its number and counted as invalid, and the import goes on.
// A finished import appends its counts to the audit log. The counts are
// returned also when an error ends the import.
func (in *Intake) ImportConsents(ctx context.Context, db ConsentImportStore, r io.Reader, opt ImportOptions) (ConsentCounts, error) {
	var n ConsentCounts
	var batch []store.Consent
	flush := func() error {
		added, err := db.RecordConsents(ctx, batch, in.Pipeline.Now())
		if err != nil {
			return err
		}
		n.Recorded += added
		batch = batch[:0]
		return nil
	}
	read := ReadNDJSON
	if opt.format() == "csv" {
		read = func(r io.Reader, fn func(Record) error) error {
			return ReadConsentCSV(r, []string{in.Pipeline.opt.ConsentPurpose, SensitivePurpose}, fn)
		}
	}
	err := read(r, func(rec Record) error {
		bad := func(err error) {
			n.Invalid++
			fmt.Fprintf(opt.Errors, "%s: line %d: %v\n", opt.Name, rec.Line, err)
		}
		if rec.Err != nil {
			bad(rec.Err)
			return nil
		}
		c, err := DecodeConsent(rec.Raw)
		if err != nil {
			bad(err)
			return nil
		}
		if c.Source == "" {
			// "import" is on the default consent.sources: the record
			// says where it came from even when the export does not.
			c.Source = "import"
		}
		crs, err := in.Pipeline.ConsentRecords(c, false)
		switch {
		case err != nil:
			bad(err)
		case len(crs) == 0:
			n.Skipped++
		default:
			batch = append(batch, crs...)
			if len(batch) >= consentChunk {
				return flush()
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return n, err
	}
	detail := map[string]int{"recorded": n.Recorded, "skipped": n.Skipped, "invalid": n.Invalid}
	return n, db.AppendAudit(ctx, store.AuditConsentImport, detail)
}
