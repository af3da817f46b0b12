package demo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// newDB creates a database whose first audit entry is kind.
func newDB(t *testing.T, kind string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tally.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AppendAudit(context.Background(), kind, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// A database the demo created is removed with its outbox; nothing else
// beside it is touched.
func TestResetRemovesAnEarlierDemo(t *testing.T) {
	path := newDB(t, demoKind)
	dir := filepath.Dir(path)
	body := filepath.Join(dir, "outbox", "meta", "x.json")
	keep := filepath.Join(dir, "tally.key")
	for _, p := range []string{body, keep} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := reset(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, "outbox")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the key file was removed: %v", err)
	}
	if err := reset(context.Background(), path); err != nil {
		t.Errorf("nothing to reset: %v", err)
	}
}

// A database the demo did not create, or a file that is no database, is a
// usage error and stays as it was.
func TestResetRefusesOtherFiles(t *testing.T) {
	notDB := filepath.Join(t.TempDir(), "tally.db")
	if err := os.WriteFile(notDB, []byte("not a database, but long enough to have a header of sorts....."), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{newDB(t, store.AuditConsentImport), notDB} {
		err := reset(context.Background(), path)
		if err == nil || tally.KindOf(err) != tally.KindUsage {
			t.Errorf("%s: %v, want a usage error", path, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s was removed: %v", path, err)
		}
	}
}
