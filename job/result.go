package job

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

// Result is what one run did, and which of its steps failed.
type Result struct {
	sealed        []batch.Sealed
	lastDue       tally.Day
	rolled        bool // the rollup step ran
	uploadStep    bool // the upload step was reached
	uploads       []batch.Summary
	outbox        string
	purged        batch.Purged
	retentionDays int
	backup        *Backed // the backup taken after the run, if any
	failed        []stepFailure
	took          time.Duration
}

// stepFailure is one step of a run that failed, and why.
type stepFailure struct{ step, why string }

// Fail records that step failed with err, and returns err. The caller
// records the steps before the job (open, config, key) the same way.
func (r *Result) Fail(step string, err error) error {
	r.failed = append(r.failed, stepFailure{step, err.Error()})
	return err
}

// Print writes the one-screen summary of what ran (err is what the run
// returned). The last line says "ok" only when every step succeeded;
// otherwise it and the log name the failed steps.
func (r Result) Print(w io.Writer, log *slog.Logger, err error) {
	if r.rolled {
		PrintSealed(w, r.sealed, r.lastDue)
	}
	if r.uploadStep {
		if r.uploads == nil {
			fmt.Fprintln(w, "upload: no uploader enabled")
		} else {
			PrintUploads(w, r.uploads, r.outbox)
		}
	}
	if len(r.purged.Days) > 0 {
		printPurged(w, r.purged, r.retentionDays)
	}
	if r.backup != nil {
		PrintBackup(w, *r.backup)
	}
	took := r.took.Round(time.Millisecond)
	if len(r.failed) == 0 && err == nil {
		fmt.Fprintf(w, "run: ok in %s\n", took)
		log.Info("run finished", "status", "ok", "sealed_days", len(r.sealed), "took_ms", r.took.Milliseconds())
		return
	}
	var steps []string
	for _, f := range r.failed {
		fmt.Fprintf(w, "run: step %s failed: %s\n", f.step, f.why)
		log.Error("run step failed", "step", f.step, "err", f.why)
		if len(steps) == 0 || steps[len(steps)-1] != f.step {
			steps = append(steps, f.step)
		}
	}
	if len(r.failed) == 0 { // interrupted between steps
		fmt.Fprintf(w, "run: stopped (%v) in %s\n", err, took)
		log.Warn("run finished", "status", "stopped", "err", err, "sealed_days", len(r.sealed), "took_ms", r.took.Milliseconds())
		return
	}
	fmt.Fprintf(w, "run: %d step(s) failed (%s) in %s\n", len(r.failed), strings.Join(steps, ", "), took)
	log.Error("run finished", "status", "failed", "steps", strings.Join(steps, ","), "sealed_days", len(r.sealed), "took_ms", r.took.Milliseconds())
}
