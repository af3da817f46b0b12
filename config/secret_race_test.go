package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestKeyFileNeverSeenHalfWritten: a second process that looks for the key
// while the first is creating it (here: run at that moment through
// beforeKeyLink) gets the same key, never an empty file, and no temporary
// file is left beside it.
func TestKeyFileNeverSeenHalfWritten(t *testing.T) {
	t.Setenv("TALLY_SECRET", "")
	dir := t.TempDir()
	cfg := Default()
	cfg.Store.KeyFile = filepath.Join(dir, "tally.key")
	var other []byte
	var otherErr error
	beforeKeyLink = func() {
		beforeKeyLink = nil
		other, otherErr = cfg.LoadHashKey(true)
	}
	t.Cleanup(func() { beforeKeyLink = nil })
	key, err := cfg.LoadHashKey(true)
	if err != nil || otherErr != nil {
		t.Fatalf("first: %v; second, started meanwhile: %v", err, otherErr)
	}
	if string(key) != string(other) || len(key) != 64 {
		t.Errorf("two keys: %q and %q", key, other)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("files left: %v", es)
	}
}
