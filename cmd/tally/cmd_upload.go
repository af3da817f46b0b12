package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/job"
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
	targets, err := wire.Targets(e.cfg, tally.Platform(opts.platform), opts.dryRun)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		fmt.Fprintln(e.stdout, "no uploader enabled: set enabled = true in an [uploaders.<platform>] section")
		return nil
	}
	delivery, err := e.delivery()
	if err != nil {
		return err
	}
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return job.Upload{DB: db, Targets: targets, Lock: e.lock(opts.lockWait), Delivery: delivery,
		Day: tally.Day(opts.date), Resend: opts.resendUncertain, Out: e.stdout}.Do(ctx)
}

// platformList names the platforms that have an uploader, for messages.
func platformList() string {
	names := make([]string, len(tally.UploadPlatforms))
	for i, p := range tally.UploadPlatforms {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
