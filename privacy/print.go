package privacy

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// Print writes the statement for a period: one line per receipt, the days
// sealed without one (before receipts were recorded), and the sum.
func Print(w io.Writer, p Period, rs []store.Receipt, missing []tally.Day) error {
	fmt.Fprintf(w, "privacy statement %s to %s: %d sealed day(s) with a receipt\n\n", p.From, p.To, p.Days)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "day\tk\tnoise\tε per cell\tL\tε per visitor\tδ per visitor")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\n", r.Day, r.MinCount, r.Noise, dash(r.Epsilon), r.VisitorBound,
			dash(r.VisitorEpsilon), dash(r.VisitorDelta))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "\n%d sealed day(s) without a receipt (sealed before receipts were recorded): %s .. %s\n",
			len(missing), missing[0], missing[len(missing)-1])
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		fmt.Fprintf(w, "%s: %s\n", r.Day, r.Statement)
	}
	_, err := fmt.Fprintf(w, "\n%s\n", p.Statement())
	return err
}

// Days is how many sealed days Run states when no period is given.
const Days = 30

// Run prints the statement for the sealed days from..to; an empty from or
// to is the first or last of the Days most recent sealed days. It returns
// the period stated.
func Run(ctx context.Context, db *store.DB, from, to tally.Day, w io.Writer) (Period, error) {
	p, rs, missing, err := Load(ctx, db, from, to)
	if err != nil {
		return p, err
	}
	return p, Print(w, p, rs, missing)
}

// Load reads the receipts of the sealed days from..to (defaults as Run's)
// and composes them; missing are the sealed days without a receipt. A
// report's footer is Load's Period.Statement().
func Load(ctx context.Context, db *store.DB, from, to tally.Day) (p Period, rs []store.Receipt, missing []tally.Day, err error) {
	if from == "" || to == "" {
		first, last, _, err := db.LastSealedDays(ctx, Days)
		if err != nil {
			return p, nil, nil, err
		}
		from, to = cmp.Or(from, first), cmp.Or(to, last)
	}
	if rs, err = db.Receipts(ctx, from, to); err != nil {
		return p, nil, nil, err
	}
	days, err := db.Days(ctx)
	if err != nil {
		return p, nil, nil, err
	}
	have := map[tally.Day]bool{}
	for _, r := range rs {
		have[r.Day] = true
	}
	for _, d := range days {
		if d.SealedAt != "" && d.Day >= from && d.Day <= to && !have[d.Day] {
			missing = append(missing, d.Day)
		}
	}
	return Compose(from, to, rs), rs, missing, nil
}
