package linkedin_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// A 200 that carries a Rest.li error acknowledges nothing: it is judged by
// the status inside it.
func TestErrorBodyIn200IsNotAnAcknowledgement(t *testing.T) {
	t.Run("transient", func(t *testing.T) {
		srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				uploadertest.Canned(t, w, 200, "error_500_in_200.json")
				return
			}
			statuses(t, w, c.Body, nil)
		})
		s, db, _ := run(t, srv.URL, 20, 3, 0)
		if s.Sent != 20 || s.Retries != 1 || s.Requests != 2 || s.Err != nil {
			t.Fatalf("summary = %+v", s)
		}
		reqs, _ := db.UploadRequests(context.Background(), "linkedin")
		if !strings.Contains(reqs[0].Error.String, "Internal Server Error") {
			t.Errorf("first request error = %q", reqs[0].Error.String)
		}
	})
	t.Run("token", func(t *testing.T) {
		srv := uploadertest.NewServer(t, func(_ int, _ uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
			uploadertest.Canned(t, w, 200, "error_401_in_200.json")
		})
		s, db, _ := run(t, srv.URL, 20, 3, 0)
		if s.Sent != 0 || s.Failed != 20 || s.Requests != 1 || s.Err == nil {
			t.Fatalf("summary = %+v", s)
		}
		u := uploadertest.Uploads(t, db, "linkedin")[0]
		if u.State != tally.Failed || u.Acked != 0 || !strings.Contains(u.LastError, "Invalid access token") {
			t.Errorf("upload = %+v", u)
		}
	})
}

// An answer listing fewer elements than were sent does not say what became
// of the rest: the request is resent whole (LinkedIn counts an eventId once).
func TestFewerElementsThanSentIsNotAnAcknowledgement(t *testing.T) {
	srv := uploadertest.NewServer(t, func(n int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			uploadertest.Canned(t, w, 200, "success.json") // three elements
			return
		}
		statuses(t, w, c.Body, nil)
	})
	s, db, _ := run(t, srv.URL, 20, 3, 0)
	if s.Sent != 20 || s.Retries != 1 || s.Requests != 2 || s.Err != nil {
		t.Fatalf("summary = %+v", s)
	}
	reqs, _ := db.UploadRequests(context.Background(), "linkedin")
	if !strings.Contains(reqs[0].Error.String, "3 elements for 20 sent") {
		t.Errorf("first request error = %q", reqs[0].Error.String)
	}

	short := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"elements":[`+strings.TrimSuffix(strings.Repeat(`{"status":201},`, 19), ",")+`]}`)
	})
	s, db, _ = run(t, short.URL, 20, 3, 0)
	if s.Sent != 0 || s.Failed != 20 || s.Requests != 3 {
		t.Fatalf("always short: summary = %+v", s)
	}
	if u := uploadertest.Uploads(t, db, "linkedin")[0]; u.Acked != 0 || !strings.Contains(u.LastError, "19 elements for 20 sent") {
		t.Errorf("always short: upload = %+v", u)
	}
}

// An answer listing more elements than were sent is as unreadable as one
// listing fewer (docs/UPLOADERS.md: "fewer (or more)"): nothing is
// acknowledged, however many of its statuses say 201.
func TestMoreElementsThanSentIsNotAnAcknowledgement(t *testing.T) {
	long := uploadertest.NewServer(t, func(_ int, c uploadertest.Call, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"elements":[`+strings.TrimSuffix(strings.Repeat(`{"status":201},`, 21), ",")+`]}`)
	})
	s, db, _ := run(t, long.URL, 20, 3, 0)
	if s.Sent != 0 || s.Failed != 20 || s.Requests != 3 {
		t.Fatalf("always long: summary = %+v", s)
	}
	if u := uploadertest.Uploads(t, db, "linkedin")[0]; u.Acked != 0 || !strings.Contains(u.LastError, "21 elements for 20 sent") {
		t.Errorf("always long: upload = %+v", u)
	}
}
