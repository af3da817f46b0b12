package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

func init() { register(newDemoCmd) }

// demoKind marks a database the demo created (its first audit entry), so a
// second demo may start it over and a real database is never touched.
const demoKind = "demo"

func newDemoCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Quick start: sample consent and events through the real intake, rollup, and a dry-run upload to outbox/",
		Long: `Run the whole pipeline on sample data in the current folder, with no
configuration and no secrets: create tally.db, import sample consents (as
tally consent import does: a consent tool's history of ten days), send
sample events (some without consent, some carrying emails and page URLs)
through the real HTTP intake, seal the finished days, and write the exact upload
request bodies for every platform to outbox/ instead of sending them.
Running it again starts the demo database over; a database that the demo
did not create is never touched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.demoEnv()
			if err != nil {
				return err
			}
			return runDemo(cmd.Context(), e)
		},
	}
}

// demoEnv is the environment with the built-in demo configuration (see
// config.Demo): never a tally.toml, the demo is self-contained.
func (g *globalOptions) demoEnv() (*env, error) {
	g.configPath = os.DevNull
	e, err := g.load()
	if err != nil {
		return nil, err
	}
	e.cfg, err = config.Demo(g.dbPath)
	e.configFile = "(built-in demo configuration)"
	return e, err
}

func runDemo(ctx context.Context, e *env) error {
	w := e.stdout
	dir := filepath.Dir(e.cfg.Store.Path)
	if err := resetDemo(ctx, e); err != nil {
		return err
	}
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	now := e.now()
	if err := db.AppendAudit(ctx, demoKind, map[string]string{"note": "database created by tally demo"}); err != nil {
		return err
	}
	fmt.Fprintf(w, "tally demo: a local run on sample data in %s; nothing leaves this machine.\n\n", absPath(dir))

	consents, err := importDemoConsents(ctx, e, db, now)
	if err != nil {
		return fmt.Errorf("demo: consent import: %w", err)
	}
	srv, err := e.startIntakeServer(ctx, db)
	if err != nil {
		return err
	}
	base := "http://" + srv.Addr()
	sent, sum, err := sendDemoTraffic(ctx, base, now)
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

	roller, err := newRoller(db, e.cfg, e.now)
	if err != nil {
		return err
	}
	sealed, err := roller.RollupDue(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n2. rollup: sealed the finished days through the release gate (min_count %d, small counts carried up to %d days)\n",
		e.cfg.Privacy.MinCount, e.cfg.Privacy.CarryDays)
	var sealedOut bytes.Buffer
	job.PrintSealed(&sealedOut, sealed, roller.LastDue())
	for _, line := range bytes.SplitAfter(sealedOut.Bytes(), []byte("\n")) {
		if len(line) > 0 {
			fmt.Fprintf(w, "   %s", line)
		}
	}

	targets, err := uploadTargets(e.cfg, "", true)
	if err != nil {
		return err
	}
	d, err := e.delivery()
	if err != nil {
		return err
	}
	sums, err := d.Send(ctx, db, targets, "", false)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n3. upload (dry run): each released count became that many synthetic conversions with no user identifier")
	var upOut bytes.Buffer
	bad := job.PrintUploads(&upOut, sums, d.Outbox)
	for _, line := range bytes.SplitAfter(upOut.Bytes(), []byte("\n")) {
		if len(line) > 0 {
			fmt.Fprintf(w, "   %s", line)
		}
	}
	fmt.Fprintln(w, "   (expired: older than the platform accepts — GA4 takes events up to 72 hours old — so never sent)")
	if bad > 0 {
		return failed("demo: the dry-run upload did not complete")
	}
	dbName := e.cfg.Store.Path
	fmt.Fprintf(w, `
Where to look:
   sqlite3 %[1]s "SELECT day, outcome, reason, count FROM intake_outcomes ORDER BY 1, 2, 3"
   sqlite3 %[1]s "SELECT day, platform, campaign, conversion, raw_count, released_count, status FROM daily_counts"
   ls %[2]s/*/                        # the exact request bodies each platform would receive
   go run ./cmd/tally --db %[1]s export    # daily counts for marketers (CSV)
   go run ./cmd/tally --db %[1]s audit log # every decision, hash-chained
Run the demo again to start over. docs/SCHEMA.md explains every table.
`, dbName, d.Outbox)
	return nil
}

// resetDemo removes an earlier demo's files, and refuses to touch a
// database the demo did not create.
func resetDemo(ctx context.Context, e *env) error {
	path := e.cfg.Store.Path
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return usageErr(fmt.Errorf("demo: %s exists and cannot be opened (%v); run the demo in an empty folder", path, err))
	}
	first := ""
	_ = db.AuditEntries(ctx, "", func(a store.AuditEntry) error {
		first = a.Kind
		return errStopWalk
	})
	db.Close()
	if first != demoKind {
		return usageErr(fmt.Errorf("demo: %s exists and was not created by tally demo; run the demo in an empty folder", path))
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

// demoSent counts what the demo posted.
type demoSent struct{ events, consents int }

// importDemoConsents records the sample consents the way `tally consent
// import` does. They are ten days old: POST /v1/consent, a browser's
// callback, takes a choice from the moment it arrives and could not
// consent the sample days' events.
func importDemoConsents(ctx context.Context, e *env, db *store.DB, now time.Time) (int, error) {
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return 0, err
	}
	defer in.Writer.Close()
	var recs []store.Consent
	for _, c := range demoConsents(now) {
		raw, err := json.Marshal(c)
		if err != nil {
			return 0, err
		}
		ci, err := intake.DecodeConsent(raw)
		if err != nil {
			return 0, err
		}
		if rec, ok, err := in.Pipeline.ConsentRecord(ci, false); err != nil {
			return 0, err
		} else if ok {
			recs = append(recs, rec)
		}
	}
	if _, err := db.RecordConsents(ctx, recs, now); err != nil {
		return 0, err
	}
	return len(recs), nil
}

// sendDemoTraffic posts the sample events over HTTP and returns the
// intake's combined summary.
func sendDemoTraffic(ctx context.Context, base string, now time.Time) (demoSent, intake.Summary, error) {
	var sent demoSent
	total := intake.NewSummary()
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(path string, body any, gpc bool) ([]byte, error) {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if gpc {
			req.Header.Set("Sec-GPC", "1")
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s: %s", path, resp.Status, out)
		}
		return out, nil
	}
	for _, b := range demoEvents(now) {
		out, err := post("/v1/events", map[string]any{"events": b.events}, b.gpc)
		if err != nil {
			return sent, total, err
		}
		s := intake.NewSummary()
		if err := json.Unmarshal(out, &s); err != nil {
			return sent, total, fmt.Errorf("/v1/events: bad summary: %w", err)
		}
		total.Add(s)
		sent.events += len(b.events)
	}
	return sent, total, nil
}
