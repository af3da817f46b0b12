package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/google"
	"github.com/tally-health/tally/uploaders/linkedin"
	"github.com/tally-health/tally/uploaders/meta"
	"github.com/tally-health/tally/uploaders/tiktok"
)

func init() { register(newUploadCmd) }

// uploadOptions are `tally upload`'s flags.
type uploadOptions struct {
	date     string
	platform string
	dryRun   bool
	lockWait time.Duration // --lock-wait
	// resendUncertain resends, once, GA4 conversions whose request had an
	// unknown outcome.
	resendUncertain bool
}

func newUploadCmd(g *globalOptions) *cobra.Command {
	var opts uploadOptions
	cmd := &cobra.Command{
		Use:   "upload [--date D] [--platform P] [--dry-run] [--resend-uncertain]",
		Short: "Send released, not yet acknowledged counts to the enabled platforms",
		Long: `Send each released cell of every enabled [uploaders.P] section as synthetic
conversions, resuming where an earlier run stopped. It never seals a day
(rollup or run does). With --dry-run (or dry_run in a section) the exact
request bodies are written to outbox/<platform>/ beside the database instead,
and no credential is needed.

GA4 does not deduplicate: a GA4 request whose outcome is unknown (a timeout
after the body was sent, a lost connection, a 5xx) is never resent on its
own; its conversions are "uncertain" in the uploads table. Check GA4's
reports, then --resend-uncertain sends each such request once more.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.date != "" {
				if _, err := tally.ParseDay(opts.date); err != nil {
					return usageErr(fmt.Errorf("--date: %w", err))
				}
			}
			if opts.resendUncertain && opts.dryRun {
				return usageErr(fmt.Errorf("--resend-uncertain sends for real; it cannot be combined with --dry-run"))
			}
			if opts.platform != "" && !slices.Contains(tally.UploadPlatforms, tally.Platform(opts.platform)) {
				return usageErr(fmt.Errorf("--platform: unknown platform %q (want %s)", opts.platform, platformList()))
			}
			e, err := g.load()
			if err != nil {
				return err
			}
			return runUpload(cmd.Context(), e, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.date, "date", "", "only this day (YYYY-MM-DD)")
	f.StringVar(&opts.platform, "platform", "", "only this platform ("+platformList()+")")
	f.BoolVar(&opts.dryRun, "dry-run", false, "write request bodies to the outbox instead of sending")
	lockWaitFlag(cmd, &opts.lockWait)
	f.BoolVar(&opts.resendUncertain, "resend-uncertain", false, "send once more the GA4 conversions whose earlier request had an unknown outcome")
	return cmd
}

// runUpload delivers every enabled platform at once and prints a summary
// per platform. Missing credentials are found before anything is sent.
func runUpload(ctx context.Context, e *env, opts uploadOptions) error {
	targets, err := uploadTargets(e.cfg, tally.Platform(opts.platform), opts.dryRun)
	if err != nil {
		return usageErr(err)
	}
	if len(targets) == 0 {
		fmt.Fprintln(e.stdout, "no uploader enabled: set enabled = true in an [uploaders.<platform>] section")
		return nil
	}
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	// Exclusive with run and rollup: two senders would send everything twice.
	release, err := e.takeRunLock(ctx, db, "upload", opts.lockWait)
	if err != nil {
		return err
	}
	defer release()
	sums, outbox, err := e.deliverWith(ctx, db, targets, tally.Day(opts.date), opts.resendUncertain)
	if err != nil {
		return err
	}
	bad := printUploadSummary(e.stdout, sums, outbox)
	if err := ctx.Err(); err != nil {
		return err
	}
	if bad > 0 {
		return failed("upload: %d of %d platforms did not deliver everything (see the log and the uploads table)", bad, len(sums))
	}
	return nil
}

// deliver runs the delivery engine over targets (only day when set) and
// returns each platform's summary and the outbox folder used by dry runs.
func (e *env) deliver(ctx context.Context, db *store.DB, targets []batch.Target, day tally.Day) ([]batch.Summary, string, error) {
	return e.deliverWith(ctx, db, targets, day, false)
}

// deliverWith is deliver that, with resend, first resends the conversions
// whose earlier request had an unknown outcome (--resend-uncertain).
func (e *env) deliverWith(ctx context.Context, db *store.DB, targets []batch.Target, day tally.Day, resend bool) ([]batch.Summary, string, error) {
	key, err := e.hashKey(ctx, db)
	if err != nil {
		return nil, "", err
	}
	loc, err := time.LoadLocation(e.cfg.Rollup.Timezone)
	if err != nil {
		return nil, "", usageErr(fmt.Errorf("rollup.timezone: %w", err))
	}
	d := &batch.Delivery{
		DB: db, Key: key, Loc: loc, Log: e.log, Day: day, Now: e.now, Wall: windowClock(e),
		Outbox: filepath.Join(filepath.Dir(e.cfg.Store.Path), "outbox"), ResendUncertain: resend,
	}
	var prog *progress
	if isTerminal(e.stderr) {
		prog = newProgress(e.stderr)
		d.Progress = prog.add
	}
	sums := d.Run(ctx, targets)
	prog.done()
	return sums, d.Outbox, nil
}

// uploadTargets builds an uploader for every enabled platform (only
// platform when set). A real run needs each credential variable set; the
// first missing one is an error naming it.
func uploadTargets(cfg *config.Config, platform tally.Platform, dryRun bool) ([]batch.Target, error) {
	u := &cfg.Uploaders
	if platform != "" && !u.Delivery(platform).Enabled {
		return nil, fmt.Errorf("--platform %s: uploaders.%s.enabled is false", platform, platform)
	}
	var out []batch.Target
	for _, p := range tally.UploadPlatforms {
		d := u.Delivery(p)
		if !d.Enabled || (platform != "" && p != platform) {
			continue
		}
		dry := dryRun || d.DryRun
		secret := func(key, env string) (tally.Secret, error) {
			if dry {
				return tally.Secret{}, nil // a dry run never needs a credential
			}
			return config.EnvSecret("uploaders."+string(p)+"."+key, env)
		}
		var up batch.Uploader
		switch p {
		case tally.PlatformMeta:
			tok, err := secret("access_token_env", u.Meta.AccessTokenEnv)
			if err != nil {
				return nil, err
			}
			up = meta.New(meta.Config{Endpoint: d.Endpoint, APIVersion: u.Meta.APIVersion, DatasetID: u.Meta.DatasetID,
				ActionSource: u.Meta.ActionSource, TestEventCode: u.Meta.TestEventCode, Events: d.Events, Token: tok, Timeout: d.Timeout.D()})
		case tally.PlatformGoogle:
			sec, err := secret("api_secret_env", u.Google.APISecretEnv)
			if err != nil {
				return nil, err
			}
			up = google.New(google.Config{Endpoint: d.Endpoint, MeasurementID: u.Google.MeasurementID, Events: d.Events,
				Validate: u.Google.Validate, Secret: sec, Timeout: d.Timeout.D()})
		case tally.PlatformTikTok:
			tok, err := secret("access_token_env", u.TikTok.AccessTokenEnv)
			if err != nil {
				return nil, err
			}
			up = tiktok.New(tiktok.Config{Endpoint: d.Endpoint, EventSource: u.TikTok.EventSource, EventSourceID: u.TikTok.EventSourceID,
				TestEventCode: u.TikTok.TestEventCode, Events: d.Events, Token: tok, Timeout: d.Timeout.D()})
		case tally.PlatformLinkedIn:
			tok, err := secret("access_token_env", u.LinkedIn.AccessTokenEnv)
			if err != nil {
				return nil, err
			}
			up = linkedin.New(linkedin.Config{Endpoint: d.Endpoint, Version: u.LinkedIn.Version, Rules: u.LinkedIn.Rules, Token: tok, Timeout: d.Timeout.D()})
		}
		out = append(out, batch.Target{Uploader: up, MaxAttempts: d.MaxAttempts, Rate: d.Rate, DryRun: dry})
	}
	return out, nil
}

// printUploadSummary writes one line per platform and returns how many
// platforms left something undelivered or uncertain in this run.
func printUploadSummary(w io.Writer, sums []batch.Summary, outbox string) int {
	bad := 0
	for _, s := range sums {
		line := fmt.Sprintf("%s: %d sent, %d failed, %d expired, %d requests, %d retries",
			s.Platform, s.Sent, s.Failed, s.Expired, s.Requests, s.Retries)
		if s.DryRun > 0 {
			line += fmt.Sprintf(", %d dry run (bodies in %s)", s.DryRun, filepath.Join(outbox, string(s.Platform)))
		}
		if s.Uncertain > 0 || s.UncertainOpen > 0 {
			line += fmt.Sprintf(", %d uncertain (%d in all await tally upload --resend-uncertain)", s.Uncertain, s.UncertainOpen)
		}
		if s.Err != nil {
			line += " — stopped: " + termSafe(s.Err.Error())
		}
		if s.Err != nil || s.Failed > 0 || s.Uncertain > 0 {
			bad++
		}
		fmt.Fprintln(w, line)
	}
	return bad
}

// windowClock returns the clock platform windows are judged by: the wall
// clock, whatever --now says. Test builds replace it so that their
// fixed-day fixtures keep working (wallclock_tallytest.go).
var windowClock = func(e *env) func() time.Time { return e.wall }

// followNow is the test builds' window clock: --now plus the real time
// elapsed since the clock was made, so it still advances.
func followNow(e *env) func() time.Time {
	start, base := time.Now(), e.now()
	return func() time.Time { return base.Add(time.Since(start)) }
}

// isTerminal reports whether w is a character device (a terminal), where
// a progress line helps; logs and pipes get none.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress redraws one line of per-platform counts, at most every 200 ms.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	counts map[tally.Platform]int
	last   time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w, counts: map[tally.Platform]int{}} }

func (p *progress) add(platform tally.Platform, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[platform] += n
	if time.Since(p.last) >= 200*time.Millisecond {
		p.draw()
	}
}

func (p *progress) draw() {
	p.last = time.Now()
	var parts []string
	for _, pl := range tally.UploadPlatforms {
		if n, ok := p.counts[pl]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", pl, n))
		}
	}
	fmt.Fprintf(p.w, "\ruploading: %s conversions", strings.Join(parts, ", "))
}

func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.counts) > 0 {
		p.draw()
		fmt.Fprintln(p.w)
	}
}

// platformList names the platforms that have an uploader, for messages.
func platformList() string {
	names := make([]string, len(tally.UploadPlatforms))
	for i, p := range tally.UploadPlatforms {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
