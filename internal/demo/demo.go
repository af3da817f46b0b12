// Package demo is tally's quick start (`tally demo`): it runs sample
// consents and events through the real intake, a rollup and a dry-run
// upload, in a database of its own. It owns the sample data, the mark
// that tells a demo database from a real one (a real one is never
// touched), and the text the demo prints; cmd builds the pieces it
// drives from the built-in demo configuration.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

// ReportFile is the report the demo writes next to its database.
const ReportFile = "tally-report.html"

// demoKind marks a database the demo created (its first audit entry), so a
// second demo may start it over and a real database is never touched.
const demoKind = "demo"

// Pieces are the parts of tally the demo drives, wired by cmd.
type Pieces struct {
	// Open opens the demo database, creating it.
	Open func(ctx context.Context) (*store.DB, error)
	// Intake builds the intake over db; the demo closes its writer.
	Intake func(ctx context.Context, db *store.DB) (*intake.Intake, error)
	// Serve starts the HTTP intake over db on a local port.
	Serve func(ctx context.Context, db *store.DB) (*intake.Listener, error)
	// Roller builds the rollup over db.
	Roller func(db *store.DB) (*batch.Roller, error)
	// Targets builds the dry-run uploader of every platform.
	Targets func() ([]batch.Target, error)
	// Delivery is what sending needs besides the targets.
	Delivery func() (job.Delivery, error)
	// Report writes the campaign report of db's sealed days to path.
	Report func(ctx context.Context, db *store.DB, path string) error
}

// Options are the demo's settings.
type Options struct {
	// DB is the demo database's path; the outbox is beside it.
	DB string
	// MinCount and CarryDays are the release gate's settings, as printed.
	MinCount, CarryDays int
	Now                 func() time.Time
	Out                 io.Writer
}

// Run starts the demo database over (refusing one the demo did not
// create), then imports the sample consents, posts the sample events over
// HTTP, seals the finished days, uploads them in dry-run mode and writes
// the report beside the database, explaining each step on Out.
func Run(ctx context.Context, opt Options, p Pieces) error {
	w := opt.Out
	dir := filepath.Dir(opt.DB)
	if err := reset(ctx, opt.DB); err != nil {
		return err
	}
	db, err := p.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	now := opt.Now()
	if err := db.AppendAudit(ctx, demoKind, map[string]string{"note": "database created by tally demo"}); err != nil {
		return err
	}
	fmt.Fprintf(w, "tally demo: a local run on sample data in %s; nothing leaves this machine.\n\n", absPath(dir))

	if err := runIntake(ctx, w, p, db, now); err != nil {
		return err
	}
	if err := runRollup(ctx, w, opt, p, db); err != nil {
		return err
	}
	outbox, err := runUpload(ctx, w, p, db)
	if err != nil {
		return err
	}
	page := filepath.Join(dir, ReportFile)
	if err := p.Report(ctx, db, page); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n4. report: the campaign results page for marketers, released counts only, one file that needs nothing else\n")
	fmt.Fprintf(w, "   open it in a browser: file://%s\n", filepath.ToSlash(absPath(page)))
	fmt.Fprintf(w, `
Where to look:
   sqlite3 %[1]s "SELECT day, outcome, reason, count FROM intake_outcomes ORDER BY 1, 2, 3"
   sqlite3 %[1]s "SELECT day, platform, campaign, conversion, raw_count, released_count, status FROM daily_counts"
   ls %[2]s/*/                        # the exact request bodies each platform would receive
   go run ./cmd/tally --db %[1]s report    # the campaign results page again (tally-report.html)
   go run ./cmd/tally --db %[1]s export    # daily counts for marketers (CSV)
   go run ./cmd/tally --db %[1]s audit log # every decision, hash-chained
Run the demo again to start over. docs/SCHEMA.md explains every table.
`, opt.DB, outbox)
	return nil
}

// runIntake imports the sample consents and posts the sample events
// through the HTTP intake.
func runIntake(ctx context.Context, w io.Writer, p Pieces, db *store.DB, now time.Time) error {
	consents, err := importConsents(ctx, p, db, now)
	if err != nil {
		return fmt.Errorf("demo: consent import: %w", err)
	}
	srv, err := p.Serve(ctx, db)
	if err != nil {
		return err
	}
	base := "http://" + srv.Addr()
	sent, sum, err := sendTraffic(ctx, base, now)
	sent.consents = consents
	if serr := srv.Shutdown(); err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("demo: intake: %w", err)
	}
	fmt.Fprintf(w, "1. intake: %d consent choices of the last ten days imported as from a consent tool's export; %d sample events went through POST /v1/events on %s\n", sent.consents, sent.events, base)
	fmt.Fprintf(w, "   %s\n", sum)
	fmt.Fprintln(w, "   every event also carried an email, a phone number, a page URL and a user agent: none of it was stored")
	return nil
}

// runRollup seals the finished days.
func runRollup(ctx context.Context, w io.Writer, opt Options, p Pieces, db *store.DB) error {
	roller, err := p.Roller(db)
	if err != nil {
		return err
	}
	sealed, err := roller.RollupDue(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n2. rollup: sealed the finished days through the release gate (min_count %d, small counts carried up to %d days)\n",
		opt.MinCount, opt.CarryDays)
	var out bytes.Buffer
	job.PrintSealed(&out, sealed, roller.LastDue())
	indent(w, out.Bytes())
	return nil
}

// runUpload writes every platform's request bodies to the outbox and
// returns the outbox folder.
func runUpload(ctx context.Context, w io.Writer, p Pieces, db *store.DB) (string, error) {
	targets, err := p.Targets()
	if err != nil {
		return "", err
	}
	d, err := p.Delivery()
	if err != nil {
		return "", err
	}
	sums, err := d.Send(ctx, db, targets, "", false)
	if err != nil {
		return "", err
	}
	fmt.Fprintln(w, "\n3. upload (dry run): each released count became that many synthetic conversions with no user identifier")
	var out bytes.Buffer
	failed := job.PrintUploads(&out, sums, d.Outbox)
	indent(w, out.Bytes())
	fmt.Fprintln(w, "   (expired: older than the platform accepts — GA4 takes events up to 72 hours old — so never sent)")
	if failed > 0 {
		return "", errors.New("demo: the dry-run upload did not complete")
	}
	return d.Outbox, nil
}

// indent writes each line of b to w indented under its step's heading.
func indent(w io.Writer, b []byte) {
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) > 0 {
			fmt.Fprintf(w, "   %s", line)
		}
	}
}

// reset removes an earlier demo's files, and refuses to touch a database
// the demo did not create.
func reset(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return tally.WithKind(tally.KindUsage, fmt.Errorf("demo: %s exists and cannot be opened (%v); run the demo in an empty folder", path, err))
	}
	first := ""
	_ = db.AuditEntries(ctx, "", func(a store.AuditEntry) error {
		first = a.Kind
		return errStopWalk
	})
	db.Close()
	if first != demoKind {
		return tally.WithKind(tally.KindUsage, fmt.Errorf("demo: %s exists and was not created by tally demo; run the demo in an empty folder", path))
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("demo: start over: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(filepath.Dir(path), "outbox")); err != nil {
		return fmt.Errorf("demo: start over: %w", err)
	}
	return nil
}

var errStopWalk = errors.New("stop")

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
