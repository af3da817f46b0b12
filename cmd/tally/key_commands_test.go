package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/uploaders/uploadertest"
)

// TestEveryKeyedCommandRefusesAnotherKey holds docs/SCHEMA.md's list of
// the commands that compare their key with the database's fingerprint:
// besides ingest, consent import and run (TestKeyFileFollowsTheDatabaseAndNeverChanges),
// upload, serve and schedule exit 2 naming $TALLY_SECRET under another key,
// send nothing and never start listening.
func TestEveryKeyedCommandRefusesAnotherKey(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, dbPath := uploadFixture(t, f.URL, uploadertest.Released{Day: "2026-11-20", Platform: "meta", Campaign: "c", Conversion: "booking", N: 12})
	if err := os.WriteFile(cfg, append(mustRead(t, cfg), []byte("[intake]\nlisten = \"127.0.0.1:0\"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(dbPath)
	// First use records the key file's fingerprint.
	if code, out, errs := runIn(t, dir, nil, "--config", cfg, "upload", "--dry-run", "--now", uploadNow); code != 0 {
		t.Fatalf("first dry run: exit %d\n%s%s", code, out, errs)
	}
	secret := "another-secret-0123456789"
	env := []string{"TALLY_SECRET=" + secret}
	for k, v := range fakeSecrets {
		env = append(env, k+"="+v)
	}
	for _, args := range [][]string{{"upload", "--now", uploadNow}, {"upload", "--dry-run", "--now", uploadNow}, {"serve"}, {"schedule"}} {
		// The deadline only guards against a command that starts serving.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, tallyBinary(t), append([]string{"--config", cfg}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"TALLY_CONFIG="}, env...)...)
		var out, errb syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		cancel()
		code, errs := cmd.ProcessState.ExitCode(), string(errb.Bytes())
		if code != exitUsage || !strings.Contains(errs, "$TALLY_SECRET") || !strings.Contains(errs, "key_fingerprint") || strings.Contains(errs+string(out.Bytes()), secret) {
			t.Errorf("%v under another key: exit %d, %q; want 2 naming $TALLY_SECRET, not its value", args, code, errs)
		}
	}
	if n := f.total(); n != 0 {
		t.Errorf("%d requests reached the platforms under another key, want 0", n)
	}
}
