package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

// Print writes the audit log to w, one row a line; date, when not empty,
// keeps the rows written on that UTC day (YYYY-MM-DD).
func Print(ctx context.Context, db *store.DB, date string, w io.Writer) error {
	err := db.AuditEntries(ctx, date, func(a store.AuditEntry) error {
		// as_of shows only when the command ran as of --now: at is
		// always when the row was really written.
		asOf := ""
		if a.AsOf.Valid {
			asOf = "as_of=" + termsafe.String(a.AsOf.String) + "  "
		}
		_, err := fmt.Fprintf(w, "%6d  %s  %-15s %s  %s%s\n", a.ID, a.At, termsafe.String(a.Kind), a.Hash[:12], asOf, termsafe.String(a.Detail))
		return err
	})
	if serr := db.Stable(); serr != nil {
		return serr
	}
	return err
}

// Recount recomputes a sealed day's raw counts from its events and writes
// them beside the stored ones to w as CSV, then a verdict. A day not
// sealed, and any cell that disagrees, is an error.
func Recount(ctx context.Context, db *store.DB, day tally.Day, w io.Writer) error {
	cells, sealed, purged, err := db.RecountDay(ctx, day)
	if serr := db.Stable(); serr != nil {
		return serr
	}
	switch {
	case err != nil:
		return err
	case !sealed:
		return fmt.Errorf("audit recount: %s is not sealed", day)
	case purged:
		fmt.Fprintf(w, "%s: events purged past retention; nothing to recount (see the purges table)\n", day)
		return nil
	}
	bad := 0
	// Quoted like the CSV export, and escaped for the terminal: a
	// campaign holding a comma or a quote cannot shift columns.
	cw := csv.NewWriter(w)
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
		return fmt.Errorf("audit recount: %d of %d cells on %s disagree with their events", bad, len(cells), day)
	}
	fmt.Fprintf(w, "%s: all %d cells agree with their events\n", day, len(cells))
	return nil
}
