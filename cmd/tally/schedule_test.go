package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tally-health/tally/config"
)

// TestScheduleBinary starts `tally schedule`: it logs its next run, serves
// intake, and drains and exits 0 on SIGTERM.
func TestScheduleBinary(t *testing.T) {
	dir, cfg := storeConfig(t, "s", "[schedule]\ncron = \"30 3 * * *\"\n")
	srv := startListening(t, dir, nil, "--config", cfg, "schedule", "--listen", "127.0.0.1:0")
	resp, err := http.Get("http://" + srv.Addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, srv.logs.Bytes())
	}
	logs := string(srv.logs.Bytes())
	for _, want := range []string{"schedule started", "next_run=", "intake stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

// TestScheduleWarnsOfDSTClashAtStart: `tally schedule` logs the clash
// before anything else (here the start then stops at once: ctx is done).
func TestScheduleWarnsOfDSTClashAtStart(t *testing.T) {
	cfg := config.Default()
	cfg.Store.Path = t.TempDir() + "/tally.db"
	cfg.Rollup.Timezone = "America/Havana"
	cfg.Schedule.Cron = "30 0 * * *"
	var logs bytes.Buffer
	wall := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	e := &env{cfg: cfg, log: slog.New(slog.NewTextHandler(&logs, nil)), now: time.Now,
		wall: func() time.Time { return wall }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = runSchedule(ctx, e)
	out := logs.String()
	for _, want := range []string{"level=WARN msg=\"schedule.cron names a time that daylight saving skips", "day=2026-03-08", "dst_gap=00:00-01:00",
		"daylight saving repeats", "day=2026-11-01"} {
		if !strings.Contains(out, want) {
			t.Errorf("schedule start log lacks %q:\n%s", want, out)
		}
	}
}
