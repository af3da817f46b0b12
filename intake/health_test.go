package intake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/store"
)

// guardedHTTP serves f through a writer that checks the database file after
// each commit, as `tally serve` does, and returns the server and its log.
func guardedHTTP(t *testing.T, f *fixture, db intake.IntakeCommitter) (string, *bytes.Buffer) {
	t.Helper()
	guard, err := intake.NewFileGuard(f.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	f.in.Writer.Close()
	f.in.Writer = intake.NewWriter(db, f.in.Pipeline.Rules(), intake.WriterOptions{QueueLen: 4, MaxEvents: 10, Verify: guard.Check, Log: log})
	t.Cleanup(f.in.Writer.Close)
	srv := newHTTP(t, f)
	return srv.URL, &logs
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHealthWhenFileDeletedOrReplaced: once the database file under a
// running intake is deleted or replaced, nothing is acknowledged any more:
// the event whose commit went into the old file gets 503, so do /healthz,
// later events and consents, and the log says why.
func TestHealthWhenFileDeletedOrReplaced(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"deleted", func(t *testing.T, path string) {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
			}
		}},
		{"replaced", func(t *testing.T, path string) {
			other := filepath.Join(t.TempDir(), "restored.db")
			odb, err := store.Open(context.Background(), other, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			odb.Close()
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.consent(t, "v", true, testNow.Add(-time.Hour))
			url, logs := guardedHTTP(t, f, f.db)
			if resp, body := post(t, url+"/v1/events", "application/json", ev("1", "appointment_booked", "v", "")); resp.StatusCode != 200 || !strings.Contains(body, `"accepted":1`) {
				t.Fatalf("before: status %d %s, want the event accepted", resp.StatusCode, body)
			}
			if code, _ := get(t, url+"/healthz"); code != 200 {
				t.Fatalf("healthz before: %d, want 200", code)
			}

			tt.change(t, f.db.Path)
			resp, body := post(t, url+"/v1/events", "application/json", ev("2", "appointment_booked", "v", ""))
			if resp.StatusCode != 503 || strings.Contains(body, "accepted") {
				t.Errorf("event after the file changed: status %d %s, want 503 with nothing acknowledged", resp.StatusCode, body)
			}
			if code, body := get(t, url+"/healthz"); code != 503 || !strings.Contains(body, "deleted or replaced") {
				t.Errorf("healthz after the file changed: %d %s, want 503 naming the file", code, body)
			}
			resp, body = post(t, url+"/v1/events", "application/json", ev("3", "appointment_booked", "v", ""))
			if resp.StatusCode != 503 || strings.Contains(body, "accepted") {
				t.Errorf("later event: status %d %s, want 503", resp.StatusCode, body)
			}
			resp, body = post(t, url+"/v1/consent", "application/json", `{"visitor_id":"w","purposes":{"advertising":true}}`)
			if resp.StatusCode != 503 || strings.Contains(body, "recorded") {
				t.Errorf("consent: status %d %s, want 503", resp.StatusCode, body)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "deleted or replaced") {
				t.Errorf("log does not say the file changed:\n%s", logs)
			}
		})
	}
}

// TestHealthWhenConsentCommitFindsFileDeleted: a consent written into a
// deleted file is not acknowledged either.
func TestHealthWhenConsentCommitFindsFileDeleted(t *testing.T) {
	f := newFixture(t, nil)
	url, _ := guardedHTTP(t, f, f.db)
	if err := os.Remove(f.db.Path); err != nil {
		t.Fatal(err)
	}
	resp, body := post(t, url+"/v1/consent", "application/json", `{"visitor_id":"w","purposes":{"advertising":false}}`)
	if resp.StatusCode != 503 || strings.Contains(body, "recorded") {
		t.Errorf("consent into a deleted file: status %d %s, want 503", resp.StatusCode, body)
	}
}

// flakyStore fails its commits while failing is set: the seam for a full
// disk or a corrupt page.
type flakyStore struct {
	db      *store.DB
	failing atomic.Bool
}

func (s *flakyStore) WriteIntake(ctx context.Context, fn func(*store.IntakeTx) error) error {
	if s.failing.Load() {
		return errors.New("database or disk is full")
	}
	return s.db.WriteIntake(ctx, fn)
}

// TestHealthAfterCommitFailure: /healthz answers 503 while the last commit
// failed, and 200 again once one succeeds.
func TestHealthAfterCommitFailure(t *testing.T) {
	f := newFixture(t, nil)
	f.consent(t, "v", true, testNow.Add(-time.Hour))
	fs := &flakyStore{db: f.db}
	url, logs := guardedHTTP(t, f, fs)

	fs.failing.Store(true)
	if resp, body := post(t, url+"/v1/events", "application/json", ev("1", "appointment_booked", "v", "")); resp.StatusCode != 503 {
		t.Errorf("event during the failure: status %d %s, want 503", resp.StatusCode, body)
	}
	if code, body := get(t, url+"/healthz"); code != 503 || !strings.Contains(body, "last commit failed") {
		t.Errorf("healthz after a failed commit: %d %s, want 503", code, body)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the failed commit was not logged as an error:\n%s", logs)
	}

	fs.failing.Store(false)
	if resp, body := post(t, url+"/v1/events", "application/json", ev("2", "appointment_booked", "v", "")); resp.StatusCode != 200 || !strings.Contains(body, `"accepted":1`) {
		t.Errorf("event after recovery: status %d %s, want accepted", resp.StatusCode, body)
	}
	if code, body := get(t, url+"/healthz"); code != 200 {
		t.Errorf("healthz after a successful commit: %d %s, want 200", code, body)
	}
}
