package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// TestUploadSurvivesSIGKILL kills a `tally upload` subprocess while every
// platform has a request in flight, and GA4 has just been answered 2xx
// (its acknowledgement may or may not be committed), then runs it again.
// Meta, TikTok and LinkedIn must acknowledge each id exactly once. GA4
// does not deduplicate: the request in flight at the kill (if any) is
// uncertain after the rerun, never resent by it; only --resend-uncertain
// sends it, once.
func TestUploadSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFakePlatforms(t)
	counts := map[tally.Platform]int{"meta": 5500, "google": 250, "tiktok": 3500, "linkedin": 12000}
	var cells []uploadertest.Released
	for p, n := range counts {
		cells = append(cells, uploadertest.Released{Day: "2026-11-20", Platform: p, Campaign: "cmp1", Conversion: "booking", N: n})
	}
	cfg, dbPath := uploadFixture(t, f.URL, cells...)

	// Hold the requests that should be in flight when the kill comes, and
	// release them (unacknowledged) only after it.
	holdAt := map[string]int{"meta": 3, "tiktok": 2, "linkedin": 2, "google": 5}
	arrived, ready := countdown(4)
	released := make(chan struct{})
	f.mu.Lock()
	f.hold = func(platform string, n int, r *http.Request) bool {
		if n == holdAt[platform] && platform != "google" {
			arrived()
		}
		if n >= holdAt[platform] {
			<-released
			return false
		}
		return true
	}
	f.after = ga4AnsweredThenHeld(4, arrived, released)
	f.mu.Unlock()

	cmd, _ := startUploadUntil(t, cfg, ready, released, "the run never reached the kill point")
	killAndWait(t, cmd)
	// Killed mid-run: the acknowledged requests before the held ones.
	for p, want := range map[string]int{"meta": 2000, "tiktok": 1000, "linkedin": 5000, "google": 100} {
		if got, _ := f.distinct(string(p)); got != want {
			t.Errorf("%s before the kill: %d acknowledged, want %d", p, got, want)
		}
	}
	f.mu.Lock()
	f.hold, f.after = nil, nil
	f.mu.Unlock()
	close(released)

	// Run again to completion.
	code, stdout, stderr := uploadAgain(t, cfg)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for p, n := range counts {
		ids, repeats := f.distinct(string(p))
		if p != "google" && (ids != n || repeats != 0) {
			t.Errorf("%s: received %d distinct conversions, %d repeats; want %d once each", p, ids, repeats, n)
		}
	}
	// The kill left at most one GA4 request unanswered: its 25 conversions
	// are uncertain (GA4 may or may not have counted them), never resent.
	resendUncertain(t, dbPath, f, counts["google"], 25, "--config", cfg, "upload", "--now", uploadNow)
}

// ga4AnsweredThenHeld is a fakePlatforms.after hook: GA4's nth request is
// acknowledged and its answer flushed, then the handler waits for
// released, so a kill comes while the client may be recording the
// acknowledgement.
func ga4AnsweredThenHeld(nth int, arrived func(), released <-chan struct{}) func(string, int, http.ResponseWriter) {
	return func(platform string, n int, w http.ResponseWriter) {
		if platform == "google" && n == nth {
			w.(http.Flusher).Flush()
			arrived()
			<-released
		}
	}
}

// resendUncertain checks a completed rerun after a kill (assertGA4Uncertain:
// the GA4 request in flight, if any, is uncertain and was not resent),
// then runs tally with args and --resend-uncertain: GA4 has all total
// conversions, has received again at most the one request the operator
// resent, and every uploads row is sent and fully acknowledged.
func resendUncertain(t *testing.T, dbPath string, f *fakePlatforms, total, size int, args ...string) {
	t.Helper()
	uncertain := assertGA4Uncertain(t, dbPath, f, total, size)
	if again := f.ga4Received(); again != 0 {
		t.Errorf("GA4: %d requests received again by a plain rerun, want 0", again)
	}
	if code, stdout, stderr := runBinary(t, nil, append(args, "--resend-uncertain")...); code != 0 {
		t.Fatalf("resend: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if ids, _ := f.distinct("google"); ids != total {
		t.Errorf("GA4 after the resend: %d distinct conversions, want %d", ids, total)
	}
	if again := f.ga4Received(); again > min(uncertain, 1) {
		t.Errorf("GA4: %d requests received again, want at most the one the operator resent (%d uncertain)", again, uncertain)
	}
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range tally.UploadPlatforms {
		for _, u := range uploadertest.Uploads(t, db, p) {
			if u.State != tally.Sent || u.Acked != u.Count {
				t.Errorf("%s: %+v", p, u)
			}
		}
	}
}

// assertGA4Uncertain checks, after a rerun following a kill, that every
// GA4 conversion was either acknowledged once or is uncertain, that at
// most one request of size conversions (the one in flight at the kill) is
// uncertain, and that GA4 never received an uncertain conversion that the
// ledger does not count as uncertain. It returns the uncertain count.
func assertGA4Uncertain(t *testing.T, dbPath string, f *fakePlatforms, total, size int) int {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acked, uncertain := 0, 0
	for _, u := range uploadertest.Uploads(t, db, "google") {
		acked += u.Acked
		uncertain += u.Uncertain
		if u.Next != u.Count || u.Acked+u.Uncertain != u.Count || (u.Uncertain > 0) != (u.State == tally.Uncertain) {
			t.Errorf("google: %+v", u)
		}
	}
	ids, repeats := f.distinct("google")
	if acked+uncertain != total || (uncertain != 0 && uncertain != size) || ids < acked || ids > total || repeats != 0 {
		t.Errorf("GA4: %d acknowledged and %d uncertain in the ledger, %d received (%d repeats); want %d in all, 0 or %d uncertain, none twice",
			acked, uncertain, ids, repeats, total, size)
	}
	t.Logf("GA4: %d uncertain after the rerun", uncertain)
	return uncertain
}

// uploadAgain runs the built binary's upload as of uploadNow, with the
// fake credentials.
func uploadAgain(t *testing.T, cfg string, extra ...string) (int, string, string) {
	t.Helper()
	return runBinary(t, nil, append([]string{"--config", cfg, "upload", "--now", uploadNow}, extra...)...)
}

// startUploadUntil starts uploadCmd and returns once reached is closed (a
// fake platform saw the request the test waits for). If it never is, the
// process is killed, released is closed so the fake's handler returns, and
// the test fails saying what did not happen. The deadline is a failure
// guard only.
func startUploadUntil(t *testing.T, cfg string, reached <-chan struct{}, released chan struct{}, never string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(tallyBinary(t), "--config", cfg, "upload", "--now", uploadNow)
	cmd.Env = os.Environ()
	for k, v := range fakeSecrets {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		close(released)
		t.Fatalf("%s\n%s", never, logs.Bytes())
	}
	return cmd, logs
}
