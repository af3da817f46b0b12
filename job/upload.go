package job

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

// Delivery is what sending needs besides the targets.
type Delivery struct {
	// Key returns the hashing key, checked against db. It is asked for
	// right before sending: under the lock, after any rollup.
	Key  func(ctx context.Context, db *store.DB) ([]byte, error)
	Loc  *time.Location // rollup.timezone
	Now  func() time.Time
	Wall func() time.Time // the clock platform windows are judged by
	// Outbox is the folder dry runs write request bodies to.
	Outbox string
	Log    *slog.Logger
	// Progress, when set, is a terminal to draw a progress line on.
	Progress io.Writer
}

// Send runs the delivery engine over targets (only day when set) and
// returns each platform's summary. With resend it first resends the
// conversions whose earlier request had an unknown outcome
// (--resend-uncertain).
func (d Delivery) Send(ctx context.Context, db *store.DB, targets []batch.Target, day tally.Day, resend bool) ([]batch.Summary, error) {
	key, err := d.Key(ctx, db)
	if err != nil {
		return nil, err
	}
	bd := &batch.Delivery{DB: db, Key: key, Loc: d.Loc, Log: d.Log, Day: day, Now: d.Now, Wall: d.Wall,
		Outbox: d.Outbox, ResendUncertain: resend}
	var prog *progress
	if d.Progress != nil {
		prog = newProgress(d.Progress)
		bd.Progress = prog.add
	}
	sums := bd.Run(ctx, targets)
	prog.done()
	return sums, nil
}

// Upload is `tally upload`: deliver every target under the database lock.
type Upload struct {
	DB       *store.DB
	Targets  []batch.Target
	Lock     Lock
	Delivery Delivery
	Day      tally.Day // only this day ("" = every day with work left)
	Resend   bool      // --resend-uncertain
	Out      io.Writer
}

// Do delivers every target at once and prints a summary per platform. A
// platform that did not deliver everything is a failure (exit 1).
func (u Upload) Do(ctx context.Context) error {
	// Exclusive with run and rollup: two senders would send everything twice.
	release, err := u.Lock.Take(ctx, u.DB, "upload")
	if err != nil {
		return err
	}
	defer release()
	sums, err := u.Delivery.Send(ctx, u.DB, u.Targets, u.Day, u.Resend)
	if err != nil {
		return err
	}
	bad := PrintUploads(u.Out, sums, u.Delivery.Outbox)
	if err := ctx.Err(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("upload: %d of %d platforms did not deliver everything (see the log and the uploads table)", bad, len(sums))
	}
	return nil
}

// PrintUploads writes one line per platform and returns how many
// platforms left something undelivered or uncertain in this run.
func PrintUploads(w io.Writer, sums []batch.Summary, outbox string) int {
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
			line += " — stopped: " + termsafe.String(s.Err.Error())
		}
		if s.Err != nil || s.Failed > 0 || s.Uncertain > 0 {
			bad++
		}
		fmt.Fprintln(w, line)
	}
	return bad
}
