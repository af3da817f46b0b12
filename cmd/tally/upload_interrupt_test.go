package main

import (
	"context"
	"net/http"
	"syscall"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// TestUploadInterruptedExits130 holds README's exit code 130 and
// docs/UPLOADERS.md's promise for Ctrl-C: SIGINT while a request is in
// flight lets that request finish and records its answer, and the upload
// exits 130 before its last request; the next run delivers the rest, each
// id once. (That nothing is sent once the context is cancelled is
// TestDeliverCancelStopsBetweenRequests; here the signal's arrival in the
// process cannot be observed without a sleep, so the count of requests is
// bounded, not exact.)
func TestUploadInterruptedExits130(t *testing.T) {
	f := newFakePlatforms(t)
	const n = 3500 // four Meta requests of up to 1,000
	cfg, dbPath := uploadFixture(t, f.URL, uploadertest.Released{Day: "2026-11-20", Platform: "meta", Campaign: "cmp1", Conversion: "booking", N: n})
	arrived := make(chan struct{})
	released := make(chan struct{})
	f.mu.Lock()
	f.hold = func(platform string, i int, r *http.Request) bool {
		if i == 2 {
			close(arrived)
			<-released
		}
		return true // acknowledged, also the one held across the signal
	}
	f.mu.Unlock()

	cmd, logs := startUploadUntil(t, cfg, arrived, released, "the second request never arrived")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The request is still in flight: let it finish.
	close(released)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("upload interrupted: exit %d, want %d\n%s", code, exitInterrupted, logs.Bytes())
	}
	sent := f.total()
	if sent < 2 || sent > 3 {
		t.Errorf("%d requests reached Meta, want 2 (at most 3: the signal may land after the held answer)", sent)
	}
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var answered int
	if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM upload_requests WHERE status = 200`).Scan(&answered); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if answered != sent {
		t.Errorf("%d answers recorded for %d requests sent: the request in flight must finish and be recorded", answered, sent)
	}

	f.mu.Lock()
	f.hold = nil
	f.mu.Unlock()
	if code, out, errOut := uploadAgain(t, cfg); code != 0 {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	if ids, repeats := f.distinct("meta"); ids != n || repeats != 0 {
		t.Errorf("Meta: %d distinct conversions, %d repeated; want %d, 0", ids, repeats, n)
	}
}
