package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tally-health/tally/config"
)

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

// newScheduler parses spec (in loc) and schedules job. The job's context
// is cancelled only when stop's grace period runs out.
func newScheduler(spec string, loc *time.Location, log *slog.Logger, job func(ctx context.Context)) (*scheduler, error) {
	sched, err := config.CronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule.cron: %w", err)
	}
	logger := cronLogger{log}
	ctx, cancel := context.WithCancel(context.Background())
	s := &scheduler{ctx: ctx, cancel: cancel}
	s.cron = cron.New(cron.WithLocation(loc), cron.WithParser(config.CronParser),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	s.entry = s.cron.Schedule(sched, cron.FuncJob(func() {
		s.running.Add(1)
		defer s.running.Done()
		job(ctx)
	}))
	return s, nil
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
