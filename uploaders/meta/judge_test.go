package meta_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// Meta counts what it took in events_received; fewer than were sent is not
// an acknowledgement of all. Meta deduplicates by event_name + event_id, so
// the engine resends the same request safely.
func TestShortEventsReceivedIsResent(t *testing.T) {
	srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			received(t, w, 19)
			return
		}
		acknowledge(t, w, c.Body)
	})
	s, db, _ := run(t, srv.URL, 20, 3, 0)
	if s.Sent != 20 || s.Retries != 1 || s.Requests != 2 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	reqs, _ := db.UploadRequests(context.Background(), "meta")
	if len(reqs) != 2 || !strings.Contains(reqs[0].Error.String, "events_received 19 of 20 sent") {
		t.Errorf("ledger = %+v", reqs)
	}
	calls := srv.Calls()
	if string(calls[0].Body) != string(calls[1].Body) {
		t.Error("the resend must carry the same events")
	}
}

func TestShortEventsReceivedNeverAcknowledges(t *testing.T) {
	srv := uploadertest.NewServer(t, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		received(t, w, 19)
	})
	s, db, _ := run(t, srv.URL, 20, 3, 0)
	if s.Sent != 0 || s.Failed != 20 || s.Requests != 3 || s.Err == nil {
		t.Fatalf("summary = %+v", s)
	}
	u := uploadertest.Uploads(t, db, "meta")[0]
	if u.State != tally.Failed || u.Acked != 0 || u.Rejected != 0 || !strings.Contains(u.LastError, "events_received 19 of 20 sent") {
		t.Errorf("upload = %+v", u)
	}
}

// An error body Meta's error object does not describe (no code, or not an
// object) is judged by its HTTP status, never bisected into rejections,
// and its text is in the message.
func TestUnexpectedErrorBodyIsInTheMessage(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"error_string_400.json", "Invalid OAuth 2.0 Access Token"},
		{"error_no_code_400.json", "GraphMethodException"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			srv := uploadertest.NewServer(t, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
				uploadertest.Canned(t, w, 400, tt.file)
			})
			s, db, sleeps := run(t, srv.URL, 20, 3, 0)
			if s.Requests != 1 || s.Failed != 20 || s.Err == nil || len(sleeps.All()) != 0 {
				t.Fatalf("summary = %+v, sleeps %v; want one request, no bisection", s, sleeps.All())
			}
			u := uploadertest.Uploads(t, db, "meta")[0]
			if u.Rejected != 0 || !strings.Contains(u.LastError, tt.want) || strings.Contains(u.LastError, "code 0") {
				t.Errorf("upload = %+v", u)
			}
		})
	}
}
