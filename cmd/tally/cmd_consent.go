package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/store"
)

// newConsentLookupCmd answers a right-to-know request: the visitor's
// consent history, found by the keyed hash of their id (the id itself is
// never stored, nor printed).
func newConsentLookupCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "lookup VISITOR_ID|-",
		Short: "Print one visitor's consent history (a right-to-know request)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withVisitor(cmd.Context(), args[0], func(e *env, db *store.DB, visitor []byte) error {
				recs, recorded, err := db.ConsentHistory(cmd.Context(), visitor)
				if err != nil {
					return err
				}
				if len(recs) == 0 {
					fmt.Fprintln(e.stdout, "no consent records for this visitor")
					return nil
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "time\tpurpose\tdecision\tsource\tversion\trecorded_at")
				for i, c := range recs {
					decision := "withdrawal"
					if c.Granted {
						decision = "grant"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", store.FormatTime(c.Time), c.Purpose, decision, dash(c.Source), dash(c.Version), recorded[i])
				}
				return tw.Flush()
			})
		},
	}
}

// newConsentForgetCmd answers an erasure request: the visitor's consent
// history is deleted through the one recorded path (store.ForgetConsents),
// with an audit entry holding the count.
func newConsentForgetCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "forget VISITOR_ID|-",
		Short: "Delete one visitor's consent history, with an audit entry (an erasure request); their events are then no_consent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withVisitor(cmd.Context(), args[0], func(e *env, db *store.DB, visitor []byte) error {
				n, err := db.ForgetConsents(cmd.Context(), visitor)
				if err != nil {
					return err
				}
				// secure_delete zeroed the rows in the database, but the
				// WAL still holds the pages that recorded them while
				// another process (`tally serve`) keeps it: only a
				// checkpoint takes those copies out. A forget that
				// deleted nothing still scrubs, so running it again
				// makes a failed scrub good.
				sctx, cancel := context.WithTimeout(cmd.Context(), forgetScrubWait)
				defer cancel()
				if err := db.ScrubWAL(sctx, nil); err != nil {
					return fmt.Errorf("consent forget: deleted %d consent records, but %w; run forget again", n, err)
				}
				fmt.Fprintf(e.stdout, "deleted %d consent records\n", n)
				return nil
			})
		},
	}
}

// forgetScrubWait bounds how long forget waits for other connections to
// let go of the WAL (as a rollup waits to scrub a sealed day).
const forgetScrubWait = 5 * time.Minute

// withVisitor opens the configured database and runs fn with the keyed
// hash of visitorID, the key checked against the database's fingerprint.
// A missing database is an error, not a new file (and a new key): a
// subject request is answered from the database that holds the consents.
func (g *globalOptions) withVisitor(ctx context.Context, visitorID string, fn func(e *env, db *store.DB, visitor []byte) error) error {
	e, err := g.load()
	if err != nil {
		return err
	}
	if visitorID == "-" {
		if visitorID, err = readVisitorID(e.stdin); err != nil {
			return err
		}
	}
	if _, err := os.Stat(e.cfg.Store.Path); err != nil {
		return fmt.Errorf("no database at %s: %w", e.cfg.Store.Path, err)
	}
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := e.hashKey(ctx, db)
	if err != nil {
		return err
	}
	return fn(e, db, intake.VisitorKey(key, visitorID))
}

// readVisitorID reads a subject request's visitor id from the first line
// of r (VISITOR_ID "-"), so that it is in neither the shell's history nor
// the process list.
func readVisitorID(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the visitor id from stdin: %w", err)
	}
	id := strings.TrimRight(line, "\r\n")
	if id == "" {
		return "", tally.WithKind(tally.KindUsage, errors.New("no visitor id on stdin (VISITOR_ID - reads it from the first line)"))
	}
	return id, nil
}

// dash prints an empty label as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
