package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// ga4Only is a GA4 endpoint that answers 500 to the first fail requests
// and 204 after, keeping every body it received.
type ga4Only struct{ *uploadertest.Server }

func newGA4Only(t *testing.T, fail int) *ga4Only {
	return &ga4Only{uploadertest.NewServer(t, func(n int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		if n <= fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
}

// received returns the bodies of every request, in order.
func (g *ga4Only) received() []string {
	var bodies []string
	for _, c := range g.Calls() {
		bodies = append(bodies, string(c.Body))
	}
	return bodies
}

// A GA4 request answered 500 is sent once; the run and the export count
// its conversions as uncertain; only --resend-uncertain sends it again.
func TestUploadResendUncertain(t *testing.T) {
	g := newGA4Only(t, 1)
	cfg, _ := seededFixture(t, ga4Uploader(g.URL), uploadertest.Released{Day: "2026-11-20", Platform: "google", Campaign: "cmp1", Conversion: "booking", N: 12})
	setSecrets(t)
	code, stdout, stderr := runTally(t, "upload", "--config", cfg, "--now", uploadNow)
	if code != exitFailure || len(g.received()) != 1 ||
		!strings.Contains(stdout, "google: 0 sent, 0 failed, 0 expired, 1 requests, 0 retries, 12 uncertain (12 in all await tally upload --resend-uncertain)") {
		t.Fatalf("exit %d, %d requests\n%s\n%s", code, len(g.received()), stdout, stderr)
	}
	export := func() string {
		t.Helper()
		code, out, errs := runTally(t, "export", "--config", cfg, "--from", "2026-11-20", "--to", "2026-11-20")
		if code != 0 {
			t.Fatalf("export: exit %d: %s", code, errs)
		}
		return out
	}
	if out := export(); !strings.Contains(out, "2026-11-20,google,cmp1,booking,12,released,12,,uncertain\n") {
		t.Errorf("export:\n%s", out)
	}
	code, stdout, _ = runTally(t, "upload", "--config", cfg, "--now", uploadNow)
	if code != 0 || len(g.received()) != 1 || !strings.Contains(stdout, "0 uncertain (12 in all") {
		t.Fatalf("plain second run: exit %d, %d requests\n%s", code, len(g.received()), stdout)
	}
	code, stdout, stderr = runTally(t, "upload", "--config", cfg, "--now", uploadNow, "--resend-uncertain")
	got := g.received()
	if code != 0 || len(got) != 2 || got[1] != got[0] || !strings.Contains(stdout, "google: 12 sent, 0 failed, 0 expired, 1 requests") {
		t.Fatalf("resend: exit %d, %d requests\n%s\n%s", code, len(got), stdout, stderr)
	}
	if out := export(); !strings.Contains(out, "2026-11-20,google,cmp1,booking,12,released,0,,sent\n") {
		t.Errorf("export after resend:\n%s", out)
	}
	if code, _, _ := runTally(t, "upload", "--config", cfg, "--now", uploadNow, "--resend-uncertain"); code != 0 || len(g.received()) != 2 {
		t.Errorf("a second resend sent again: exit %d, %d requests", code, len(g.received()))
	}
	if code, _, stderr := runTally(t, "upload", "--config", cfg, "--resend-uncertain", "--dry-run"); code != exitUsage || !strings.Contains(stderr, "--dry-run") {
		t.Errorf("--resend-uncertain --dry-run: exit %d, %q", code, stderr)
	}
}

// upload --now on a past day, on a later machine clock: GA4's 72 hours are
// counted to the real time of sending, so the cell expires unsent.
func TestUploadWindowFollowsWallClock(t *testing.T) {
	realWindows(t)
	g := newGA4Only(t, 0)
	day := tally.DayOf(time.Now().Add(-4*24*time.Hour), time.UTC)
	// As of 8 to 32 hours after the cell's noon: inside the window by --now,
	// at least 84 hours past it by the machine's clock.
	asOf := time.Now().UTC().Add(-3*24*time.Hour - 4*time.Hour).Format(time.RFC3339)
	cfg, _ := seededFixture(t, ga4Uploader(g.URL), uploadertest.Released{Day: day, Platform: "google", Campaign: "cmp1", Conversion: "booking", N: 12})
	setSecrets(t)
	code, stdout, stderr := runTally(t, "upload", "--config", cfg, "--now", asOf)
	if code != 0 || len(g.received()) != 0 || !strings.Contains(stdout, "google: 0 sent, 0 failed, 12 expired, 0 requests") {
		t.Fatalf("exit %d, %d requests\n%s\n%s", code, len(g.received()), stdout, stderr)
	}
}
