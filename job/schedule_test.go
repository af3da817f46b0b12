package job

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// parser reads specs as cmd/tally does (config.CronParser): five fields
// and descriptors such as @daily.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func TestScheduleNext(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec string
		loc  *time.Location
		from time.Time
		want time.Time
	}{
		{"30 3 * * *", time.UTC, time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)},
		{"30 3 * * *", time.UTC, time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC), time.Date(2026, 11, 21, 3, 30, 0, 0, time.UTC)},
		// In the configured zone, across the end of daylight saving time.
		{"30 3 * * *", ny, time.Date(2026, 11, 1, 0, 0, 0, 0, ny), time.Date(2026, 11, 1, 3, 30, 0, 0, ny)},
		{"30 3 * * *", ny, time.Date(2026, 11, 1, 4, 0, 0, 0, ny), time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)},
		{"@daily", time.UTC, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
		{"0 */6 * * 1-5", time.UTC, time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		s, err := parser.Parse(tt.spec)
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		if got := s.Next(tt.from.In(tt.loc)); !got.Equal(tt.want) {
			t.Errorf("%s from %s: next %s, want %s", tt.spec, tt.from, got, tt.want)
		}
	}
}

func TestScheduleSkipsOverlapAndRecoversPanics(t *testing.T) {
	var runs atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	s := newScheduler(daily(t), time.UTC, quiet, func(context.Context) {
		if runs.Add(1) == 1 {
			started <- struct{}{}
			<-release
			return
		}
		panic("job blew up")
	})
	first := make(chan struct{})
	go func() { s.runNow(); close(first) }()
	<-started
	s.runNow() // overlaps the first: skipped, returns at once
	if n := runs.Load(); n != 1 {
		t.Errorf("overlapping run was not skipped: %d runs", n)
	}
	close(release)
	<-first
	s.runNow() // panics inside: recovered
	if n := runs.Load(); n != 2 {
		t.Errorf("runs = %d, want 2", n)
	}
	s.stop(time.Second)
}

func TestScheduleStopWaitsForRunningJob(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	finished := make(chan struct{})
	s := newScheduler(daily(t), time.UTC, quiet, func(ctx context.Context) {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
			t.Error("job cancelled within the grace period")
		}
		close(finished)
	})
	s.start()
	go s.runNow()
	<-started
	stopped := make(chan bool)
	go func() { stopped <- s.stop(time.Hour) }()
	select {
	case <-stopped:
		t.Fatal("stop returned while the job was running")
	case <-finished:
		t.Fatal("job finished before it was released")
	default:
	}
	close(release)
	if cancelled := <-stopped; cancelled {
		t.Error("stop reports a cancel, but the job finished in time")
	}
	select {
	case <-finished:
	default:
		t.Error("stop returned before the running job finished")
	}
}

func TestScheduleStopCancelsAfterGrace(t *testing.T) {
	started := make(chan struct{})
	s := newScheduler(daily(t), time.UTC, quiet, func(ctx context.Context) {
		close(started)
		<-ctx.Done() // a job that only stops when told
	})
	s.start()
	go s.runNow()
	<-started
	if cancelled := s.stop(10 * time.Millisecond); !cancelled {
		t.Error("a job past the grace period was not cancelled")
	}
}

func daily(t *testing.T) cron.Schedule {
	t.Helper()
	s, err := parser.Parse("@daily")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestScheduleRunStopsItsServer: Run starts the server, and when ctx ends
// stops it and returns what stopping it returned; a server that does not
// start is Run's error.
func TestScheduleRunStopsItsServer(t *testing.T) {
	s := Schedule{Spec: "@daily", Cron: daily(t), Loc: time.UTC, Out: io.Discard, Log: quiet}
	never := func(context.Context) (Result, error) { t.Error("job ran"); return Result{}, nil }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stopErr := errors.New("drain failed")
	stopped := false
	err := s.Run(ctx, never, func() (func() error, error) {
		return func() error { stopped = true; return stopErr }, nil
	})
	if !stopped || !errors.Is(err, stopErr) {
		t.Errorf("stopped %v, err %v; want the server stopped and %v", stopped, err, stopErr)
	}
	startErr := errors.New("listen: address in use")
	if err := s.Run(context.Background(), never, func() (func() error, error) { return nil, startErr }); !errors.Is(err, startErr) {
		t.Errorf("server that did not start: %v", err)
	}
}
