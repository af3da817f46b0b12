package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesAfterDatabaseDeleted: `tally serve` whose database file
// is deleted under it answers 503 to /healthz, events and consents (it
// acknowledges nothing into the unlinked file) and logs an error.
func TestServeRefusesAfterDatabaseDeleted(t *testing.T) {
	dir, cfg := storeConfig(t, "health", "")
	srv := startServe(t, dir, nil, "--config", cfg)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		code, b := srv.call(t, method, path, body, nil)
		return code, string(b)
	}
	event := `{"event_id":"h%d","event":"appointment_booked","visitor_id":"v"}`
	if code, body := call("POST", "/v1/events", strings.Replace(event, "%d", "1", 1)); code != 200 {
		t.Fatalf("event before: %d %s", code, body)
	}
	if code, _ := call("GET", "/healthz", ""); code != 200 {
		t.Fatalf("healthz before: %d", code)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(dir, "health.db"+suffix))
	}
	if code, body := call("POST", "/v1/events", strings.Replace(event, "%d", "2", 1)); code != 503 {
		t.Errorf("event after the file was deleted: %d %s, want 503", code, body)
	}
	if code, body := call("GET", "/healthz", ""); code != 503 {
		t.Errorf("healthz after the file was deleted: %d %s, want 503", code, body)
	}
	if code, body := call("POST", "/v1/consent", `{"visitor_id":"w","purposes":{"advertising":true}}`); code != 503 {
		t.Errorf("consent after the file was deleted: %d %s, want 503", code, body)
	}
	if logs := srv.logs.Bytes(); !bytes.Contains(logs, []byte("deleted or replaced")) || !bytes.Contains(logs, []byte("ERROR")) {
		t.Errorf("serve did not log an error about the file:\n%s", logs)
	}
}
