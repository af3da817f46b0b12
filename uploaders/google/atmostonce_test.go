package google_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// collected returns the bodies that reached /mp/collect.
func collected(d *uploadertest.Delivered) []string {
	var out []string
	for _, c := range d.Calls() {
		if c.Path == "/mp/collect" {
			out = append(out, string(c.Body))
		}
	}
	return out
}

// GA4 does not deduplicate: a request whose outcome is unknown is sent
// once, its conversions are uncertain, and only --resend-uncertain sends
// it again, once.
func TestUnknownOutcomeIsNotResent(t *testing.T) {
	tests := []struct {
		name  string
		first func(w http.ResponseWriter, r *http.Request)
	}{
		{"timeout after the body was written", func(_ http.ResponseWriter, r *http.Request) { uploadertest.Hang(r) }},
		{"connection lost after the body was written", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		}},
		{"http 500", func(w http.ResponseWriter, _ *http.Request) { uploadertest.Canned(t, w, 500, "error_500.html") }},
		{"http 503", func(w http.ResponseWriter, _ *http.Request) { uploadertest.Canned(t, w, 503, "error_500.html") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := adapter()
			a.New = func(endpoint string, secret tally.Secret, _ time.Duration) batch.Uploader {
				return newGoogle(endpoint, secret, 200*time.Millisecond)
			}
			// 30 conversions: a chunk of 25 and one of 5.
			d := a.Deliver(t, 30, 5, func(n int, c uploadertest.Call, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					tt.first(w, r)
					return
				}
				accept(t, w, c)
			})
			ctx := context.Background()
			s := d.Summary
			if got := collected(d); len(got) != 1 || len(d.Sleeps) != 0 {
				t.Fatalf("GA4 received %d requests (sleeps %v), want exactly 1", len(got), d.Sleeps)
			}
			if s.Uncertain != 25 || s.UncertainOpen != 25 || s.Sent != 0 || s.Requests != 1 || s.Err == nil ||
				!strings.Contains(s.Err.Error(), "outcome unknown") {
				t.Fatalf("summary = %+v", s)
			}
			u := d.Upload(t)
			if u.State != tally.Uncertain || u.Uncertain != 25 || u.Next != 25 || u.Acked != 0 ||
				!strings.Contains(u.LastError, "--resend-uncertain") {
				t.Fatalf("upload = %+v", u)
			}
			open, err := d.DB.OpenUncertain(ctx, "google", "")
			if err != nil || len(open) != 1 || open[0].First != 0 || open[0].N != 25 {
				t.Fatalf("open uncertain = %+v, %v", open, err)
			}

			// A plain run sends the rest and leaves the uncertain chunk alone.
			s = d.Again(false)
			if got := collected(d); len(got) != 2 || s.Sent != 5 || s.Uncertain != 0 || s.UncertainOpen != 25 {
				t.Fatalf("second run: %d requests, %+v", len(got), s)
			}
			if u := d.Upload(t); u.State != tally.Uncertain || u.Acked != 5 || u.Next != 30 {
				t.Fatalf("after second run: %+v", u)
			}
			if s := d.Again(false); len(collected(d)) != 2 || s.Requests != 0 {
				t.Fatalf("third run sent again: %+v", s)
			}

			// The operator asks: the same body goes out exactly once more.
			s = d.Again(true)
			got := collected(d)
			if len(got) != 3 || got[2] != got[0] || s.Sent != 25 || s.UncertainOpen != 0 || s.Err != nil {
				t.Fatalf("resend: %d requests (same body %v), %+v", len(got), len(got) == 3 && got[2] == got[0], s)
			}
			u = d.Upload(t)
			if u.State != tally.Sent || u.Uncertain != 0 || u.Acked != 30 || u.LastError != "" {
				t.Fatalf("after resend: %+v", u)
			}
			if open, _ := d.DB.OpenUncertain(ctx, "google", ""); len(open) != 0 {
				t.Fatalf("still open: %+v", open)
			}
			if s := d.Again(true); len(collected(d)) != 3 || s.Requests != 0 {
				t.Fatalf("second resend sent again: %+v", s)
			}
		})
	}
}

// An unknown answer to a resend is uncertain again, never retried.
func TestResendUnknownAgain(t *testing.T) {
	d := adapter().Deliver(t, 12, 5, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		uploadertest.Canned(t, w, 502, "error_500.html")
	})
	s := d.Again(true)
	if len(collected(d)) != 2 || s.Uncertain != 12 || s.UncertainOpen != 12 {
		t.Fatalf("%d requests, %+v", len(collected(d)), s)
	}
	open, _ := d.DB.OpenUncertain(context.Background(), "google", "")
	if len(open) != 1 || open[0].RequestID != 2 {
		t.Fatalf("open = %+v, want the resend's own row", open)
	}
	var resentBy int64
	if err := sqlfile.Open(t, d.DB.Path).QueryRow(`SELECT resent_by FROM upload_uncertain WHERE request_id = 1`).Scan(&resentBy); err != nil || resentBy != 2 {
		t.Fatalf("first row resent_by = %d, %v", resentBy, err)
	}
}

// GA4 limits count characters: 64 "é" is 128 bytes and 64 characters.
func TestLimitsCountCharacters(t *testing.T) {
	g := newGoogle("http://x", tally.Secret{}, 0)
	for _, tt := range []struct {
		campaign string
		ok       bool
	}{
		{strings.Repeat("é", 64), true},
		{strings.Repeat("é", 100), true},
		{strings.Repeat("é", 101), false},
		{strings.Repeat("x", 101), false},
	} {
		_, err := g.Build(&batch.Batch{ChunkID: "c", Items: []batch.Conversion{{Conversion: "booking", Campaign: tt.campaign, EventID: "e", Time: now}}})
		if (err == nil) != tt.ok {
			t.Errorf("campaign of %d characters: err = %v, want ok=%v", len([]rune(tt.campaign)), err, tt.ok)
		}
	}
	g2 := withEvents(map[string]string{"booking": "réservation"}, false)("http://x", tally.Secret{}, 0)
	if _, err := g2.Build(&batch.Batch{Items: []batch.Conversion{{Conversion: "booking", Time: now}}}); err == nil {
		t.Error("a name with a non-ASCII letter was accepted")
	}
}

// A cell that cannot be built fails alone, with its reason; the platform's
// later cells are sent.
func TestBadCellFailsAlone(t *testing.T) {
	srv := uploadertest.NewServer(t, adapter().Accepting(t))
	db := storetest.Open(t)
	long := strings.Repeat("x", 101)
	uploadertest.Seed(t, db,
		uploadertest.Released{Day: "2026-11-19", Platform: "google", Campaign: long, Conversion: "booking", N: 12},
		uploadertest.Released{Day: "2026-11-19", Platform: "google", Campaign: strings.Repeat("é", 64), Conversion: "booking", N: 12},
		uploadertest.Released{Day: uploadertest.Day, Platform: "google", Campaign: "spring", Conversion: "booking", N: 30},
	)
	d, _ := uploadertest.Delivery(db, now)
	s := d.Run(context.Background(), []batch.Target{uploadertest.Target(newGoogle(srv.URL, tally.NewSecret("ga4-secret"), 0), 3)})[0]
	if s.Sent != 42 || s.Failed != 12 || s.Err != nil || len(srv.Calls()) != 3 {
		t.Fatalf("summary = %+v, %d requests", s, len(srv.Calls()))
	}
	ups := uploadertest.Uploads(t, db, "google")
	want := map[string]tally.State{long: tally.Failed, strings.Repeat("é", 64): tally.Sent, "spring": tally.Sent}
	for _, u := range ups {
		if u.State != want[u.Campaign] {
			t.Errorf("%s: state %s, want %s", u.Campaign[:min(len(u.Campaign), 8)], u.State, want[u.Campaign])
		}
		if u.Campaign == long && (u.Next != 0 || !strings.Contains(u.LastError, "over 100 characters")) {
			t.Errorf("bad cell = %+v", u)
		}
	}
}
