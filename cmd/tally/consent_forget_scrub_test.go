package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tally-health/tally/intake"
)

// TestForgetLeavesNoTraceInFile: `tally consent forget` while `tally
// serve` keeps the database open (so nothing removes the WAL on close).
// Once forget exits 0, neither tally.db nor its -wal holds the visitor's
// keyed id, which the WAL kept in the frames that recorded the grant; and
// the running serve counts the visitor's next event no_consent.
func TestForgetLeavesNoTraceInFile(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tally.toml")
	if err := os.WriteFile(cfgPath, []byte("[store]\npath = \"tally.db\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"TALLY_SECRET=" + scrubSecret}
	srv := startServe(t, dir, env, "--config", cfgPath)
	post := func(path string, body any) map[string]any {
		t.Helper()
		out, _ := srv.post(t, path, body, nil)
		return out
	}
	for _, v := range []string{"forget-me", "keep-me"} {
		post("/v1/consent", map[string]any{"visitor_id": v, "purposes": map[string]bool{"advertising": true}})
	}
	event := func(id, visitor string) map[string]any {
		return post("/v1/events", map[string]any{"events": []any{map[string]any{"event_id": id,
			"event": "appointment_booked", "visitor_id": visitor}}})
	}
	if sum := event("b-1", "forget-me"); sum["accepted"] != 1.0 {
		t.Fatalf("event before forget: %v, want accepted", sum)
	}
	dbPath := filepath.Join(dir, "tally.db")
	key := intake.VisitorKey([]byte(scrubSecret), "forget-me")
	if !bytes.Contains(dbFileBytes(t, dbPath), key) {
		t.Fatal("the visitor's key is not in tally.db or its WAL before forget: the test would prove nothing")
	}

	if code, out, errOut := runIn(t, dir, env, "--config", cfgPath, "consent", "forget", "forget-me"); code != 0 {
		t.Fatalf("consent forget: %d %q %q", code, out, errOut)
	}
	if bytes.Contains(dbFileBytes(t, dbPath), key) {
		t.Error("PRIVACY LEAK: the forgotten visitor's key is still in tally.db or tally.db-wal after tally consent forget")
	}
	if sum := event("b-2", "forget-me"); sum["accepted"] == 1.0 {
		t.Errorf("event after forget: %v, want no_consent", sum)
	}
	if sum := event("b-3", "keep-me"); sum["accepted"] != 1.0 {
		t.Errorf("another visitor's event after forget: %v, want accepted", sum)
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve exit after SIGTERM: %v, want 0\n%s", err, srv.logs.Bytes())
	}
}
