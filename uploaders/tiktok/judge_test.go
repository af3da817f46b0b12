package tiktok_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// An answer that is not TikTok's JSON says nothing about the events in the
// request: it is judged by its HTTP status (transient: retried; otherwise
// the platform stops and the cells wait for the next run), never bisected
// into conversions rejected for good.
func TestNonJSONAnswerIsNeverBisected(t *testing.T) {
	tests := []struct {
		name   string
		status int
		file   string
		header []string
	}{
		{"302 redirect", 302, "redirect_302.html", []string{"Location", "https://business-api.tiktok.com/login"}},
		{"307 redirect", 307, "redirect_302.html", []string{"Location", "https://example.org/open_api/v1.3/event/track/"}},
		{"proxy 404", 404, "proxy_404.html", nil},
		{"plain 400", 400, "error_400.txt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := uploadertest.NewServer(t, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
				uploadertest.Canned(t, w, tt.status, tt.file, tt.header...)
			})
			s, db, sleeps := run(t, srv.URL, 20, 3, 0)
			if s.Requests != 1 || s.Sent != 0 || s.Failed != 20 || s.Err == nil || len(sleeps.All()) != 0 {
				t.Fatalf("summary = %+v, sleeps %v; want one request, then stop", s, sleeps.All())
			}
			u := uploadertest.Uploads(t, db, "tiktok")[0]
			if u.State != tally.Failed || u.Rejected != 0 || u.Acked != 0 || !strings.Contains(u.LastError, fmt.Sprintf("HTTP %d", tt.status)) {
				t.Errorf("upload = %+v", u)
			}
		})
	}
	t.Run("proxy 502", func(t *testing.T) {
		srv := uploadertest.NewServer(t, func(n int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				uploadertest.Canned(t, w, 502, "proxy_502.html")
				return
			}
			uploadertest.Canned(t, w, 200, "success.json")
		})
		s, db, _ := run(t, srv.URL, 20, 3, 0)
		if s.Sent != 20 || s.Retries != 1 || s.Requests != 2 {
			t.Fatalf("summary = %+v", s)
		}
		if u := uploadertest.Uploads(t, db, "tiktok")[0]; u.Rejected != 0 || u.Acked != 20 {
			t.Errorf("upload = %+v", u)
		}
	})
}
