package job

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// grace is how long shutdown lets a running job finish before cancelling
// it (it then stops between requests; nothing is lost).
const grace = 2 * time.Minute

// Schedule is `tally schedule`: the run job on a cron schedule, beside a
// server (the HTTP intake).
type Schedule struct {
	Spec string        // the schedule as configured, for the log
	Cron cron.Schedule // Spec parsed
	Loc  *time.Location
	Out  io.Writer // each run's summary
	Log  *slog.Logger
}

// Run schedules run, starts the server with start and serves until ctx
// is done. It then stops the server (the error Run returns) and lets a
// running job finish, cancelling it after the grace period.
func (s Schedule) Run(ctx context.Context, run func(context.Context) (Result, error), start func() (stop func() error, err error)) error {
	sched := newScheduler(s.Cron, s.Loc, s.Log, func(ctx context.Context) {
		s.Log.Info("scheduled run starting")
		res, err := run(ctx)
		res.Print(s.Out, s.Log, err)
		if err != nil {
			s.Log.Error("scheduled run failed", "err", err)
		}
	})
	stopServer, err := start()
	if err != nil {
		return err
	}
	next := sched.start()
	s.Log.Info("schedule started", "cron", s.Spec, "timezone", s.Loc.String(), "next_run", next.Format(time.RFC3339))
	<-ctx.Done()
	s.Log.Info("schedule stopping")
	serr := stopServer()
	if sched.stop(grace) {
		s.Log.Warn("running job cancelled after the grace period; it resumes on the next run")
	}
	return serr
}

// scheduler runs one job on a cron schedule. robfig/cron recovers no
// panics and cancels nothing by itself: the job is wrapped with Recover and
// SkipIfStillRunning, gets a context of its own, and stop bounds the wait.
type scheduler struct {
	cron    *cron.Cron
	entry   cron.EntryID
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup // jobs in flight, however they were started
}

// newScheduler schedules job on sched (in loc). The job's context is
// cancelled only when stop's grace period runs out.
func newScheduler(sched cron.Schedule, loc *time.Location, log *slog.Logger, job func(ctx context.Context)) *scheduler {
	logger := cronLogger{log}
	ctx, cancel := context.WithCancel(context.Background())
	s := &scheduler{ctx: ctx, cancel: cancel}
	s.cron = cron.New(cron.WithLocation(loc), cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	s.entry = s.cron.Schedule(sched, cron.FuncJob(func() {
		s.running.Add(1)
		defer s.running.Done()
		job(ctx)
	}))
	return s
}

// start begins running the schedule and returns the next run time.
func (s *scheduler) start() time.Time {
	s.cron.Start()
	return s.cron.Entry(s.entry).Next
}

// runNow runs the job as the schedule would (through the same wrappers).
func (s *scheduler) runNow() { s.cron.Entry(s.entry).WrappedJob.Run() }

// stop stops scheduling and waits for a running job: up to grace, then it
// cancels the job's context and waits for it to return. It reports whether
// the job had to be cancelled.
func (s *scheduler) stop(grace time.Duration) (cancelled bool) {
	stopped := s.cron.Stop().Done()
	done := make(chan struct{})
	go func() {
		<-stopped
		s.running.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		cancelled = true
		s.cancel()
		<-done
	}
	s.cancel()
	return cancelled
}

// cronLogger adapts slog to robfig/cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
