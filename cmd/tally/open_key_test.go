package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// keyFiles lists every *.key file under root.
func keyFiles(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".key") {
			rel, _ := filepath.Rel(root, p)
			found = append(found, rel)
		}
		return nil
	})
	return found
}

func TestKeyFileFollowsTheDatabaseAndNeverChanges(t *testing.T) {
	root := t.TempDir()
	data, a, b := filepath.Join(root, "data"), filepath.Join(root, "a"), filepath.Join(root, "b")
	for _, d := range []string{data, a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dbPath := filepath.Join(data, "tally.db")
	cfg := write(t, filepath.Join(root, "tally.toml"), fmt.Sprintf("[store]\npath = %q\nkey_file = \"tally.key\"\n", dbPath))
	consents := write(t, filepath.Join(root, "consent.ndjson"),
		`{"visitor_id":"v1","purposes":{"advertising":true},"time":"2026-11-19T00:00:00Z"}`+"\n")
	events := write(t, filepath.Join(root, "events.ndjson"),
		`{"event_id":"e1","event":"appointment_booked","visitor_id":"v1","source":"facebook","campaign":"c1"}`+"\n")
	now := "2026-11-20T12:00:00Z"

	// The same config from two working directories: one key, next to the
	// database, so the consent recorded from a/ admits the event from b/.
	if code, out, errs := runIn(t, a, nil, "--config", cfg, "--now", now, "consent", "import", consents); code != 0 {
		t.Fatalf("consent import from a/: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runIn(t, b, nil, "--config", cfg, "--now", now, "ingest", events); code != 0 || !strings.HasPrefix(out, "accepted 1") {
		t.Fatalf("ingest from b/: exit %d, %q, want accepted 1\n%s", code, out, errs)
	}
	if got := keyFiles(t, root); len(got) != 1 || got[0] != filepath.Join("data", "tally.key") {
		t.Fatalf("key files %v, want only data/tally.key", got)
	}
	key, err := os.ReadFile(filepath.Join(data, "tally.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var fp string
	sqlfile.Open(t, db.Path).QueryRow(`SELECT fingerprint FROM key_fingerprint`).Scan(&fp)
	db.Close()
	if fp != store.KeyFingerprint([]byte(strings.TrimSpace(string(key)))) {
		t.Errorf("recorded fingerprint %q is not the key file's", fp)
	}

	// Another key, from $TALLY_SECRET: refused before anything is written.
	secret := "another-secret-0123456789"
	code, _, errs := runIn(t, b, []string{"TALLY_SECRET=" + secret}, "--config", cfg, "--now", now, "ingest", events)
	if code != 2 || !strings.Contains(errs, "$TALLY_SECRET") || !strings.Contains(errs, "key_fingerprint") || strings.Contains(errs, secret) {
		t.Errorf("wrong TALLY_SECRET: exit %d, %q; want 2 naming $TALLY_SECRET, not its value", code, errs)
	}

	// The key file lost: refused, and no new key anywhere.
	if err := os.Remove(filepath.Join(data, "tally.key")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"ingest", events}, {"consent", "import", consents}, {"run"}} {
		code, _, errs := runIn(t, b, nil, append([]string{"--config", cfg, "--now", now}, args...)...)
		if code != 2 || !strings.Contains(errs, filepath.Join(data, "tally.key")+" is missing") {
			t.Errorf("%v without the key file: exit %d, %q; want 2 naming the key file", args, code, errs)
		}
	}
	if got := keyFiles(t, root); len(got) != 0 {
		t.Errorf("a new key was created: %v", got)
	}
}

func TestNoNewKeyForADatabaseThatHoldsHashedData(t *testing.T) {
	// A database written before fingerprints existed, whose key file is
	// not where store.key_file now points.
	t.Setenv("TALLY_SECRET", "")
	cfg, dbPath := rollupFixture(t)
	events := write(t, filepath.Join(t.TempDir(), "events.ndjson"),
		`{"event_id":"e1","event":"appointment_booked","visitor_id":"v1"}`+"\n")
	code, _, errs := runTally(t, "--config", cfg, "ingest", events)
	keyPath := filepath.Join(filepath.Dir(dbPath), "tally.key")
	if code != 2 || !strings.Contains(errs, keyPath+" is missing") || !strings.Contains(errs, "already holds data") {
		t.Errorf("exit %d, %q; want 2 naming %s", code, errs, keyPath)
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Errorf("key file created: %v", err)
	}
}

func TestDatabaseIsCreatedPrivateWhateverTheUmask(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("umask and file modes")
	}
	dir, cfg := storeConfig(t, "tally", "")
	events := write(t, filepath.Join(dir, "events.ndjson"), `{"event_id":"e1","event":"appointment_booked","visitor_id":"v1"}`+"\n")
	cmd := exec.Command("sh", "-c", `umask 000 && exec "$0" "$@"`, tallyBinary(t), "--config", cfg, "ingest", events)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TALLY_CONFIG=", "TALLY_SECRET=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	for _, name := range []string{"tally.db", "tally.key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v under umask 000, want 0600", name, fi.Mode().Perm())
		}
	}
}
