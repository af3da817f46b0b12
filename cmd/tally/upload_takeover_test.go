package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// A `tally upload` that stalls past its lock's expiry (here: its lock row
// is edited to have expired while a GA4 request is in flight) is taken
// over by a second upload. The stalled one must send nothing more once it
// wakes: GA4 receives no body twice, the second upload counts the request
// in flight as uncertain, and the stalled one exits 1 saying why.
func TestUploadStalledPastLockStopsAfterTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFakePlatforms(t)
	cfg, dbPath := uploadFixture(t, f.URL, uploadertest.Released{Day: "2026-11-20", Platform: "google", Campaign: "cmp1", Conversion: "booking", N: 100})
	arrived := make(chan struct{})
	released := make(chan struct{})
	f.mu.Lock()
	f.hold = func(platform string, n int, _ *http.Request) bool {
		if platform == "google" && n == 2 {
			close(arrived)
			<-released
		}
		return true
	}
	f.mu.Unlock()

	stalled, logs := startUploadUntil(t, cfg, arrived, released, "the first upload never sent its second request")
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE locks SET expires_at = '2000-01-01T00:00:00.000Z'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, stdout, stderr := uploadAgain(t, cfg)
	if code != 0 || !strings.Contains(stdout, "25 in all await tally upload --resend-uncertain") {
		t.Fatalf("takeover: exit %d\n%s\n%s", code, stdout, stderr)
	}
	close(released)
	err = stalled.Wait()
	if code := stalled.ProcessState.ExitCode(); code != exitFailure || !strings.Contains(string(logs.Bytes()), "taken over by another process") {
		t.Errorf("stalled upload: exit %d (%v), want %d saying the lock was taken over\n%s", code, err, exitFailure, logs.Bytes())
	}
	if again := f.ga4Received(); again != 0 {
		t.Errorf("GA4 received %d bodies twice", again)
	}
	if ids, _ := f.distinct("google"); ids != 100 {
		t.Errorf("GA4 received %d distinct conversions, want 100", ids)
	}
}
