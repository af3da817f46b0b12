package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tally-health/tally/internal/storetest"
)

// TestReportCommandsWorkForAReaderWhoCannotWrite runs the report commands
// of the real binary on a database copy its user cannot write (a 0444 file
// in a 0555 folder). As root, permissions do not stop anything, so the
// commands then run as nobody (uid 65534).
func TestReportCommandsWorkForAReaderWhoCannotWrite(t *testing.T) {
	cfg, dbPath := rollupFixture(t)
	if code, _, errs := runTally(t, "rollup", "--config", cfg, "--now", "2026-11-03T03:00:00Z"); code != 0 {
		t.Fatalf("rollup: %s", errs)
	}
	// A folder every user can enter, holding the binary, the config and the
	// read-only copy.
	shared, err := os.MkdirTemp("", "tally-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(shared, "copy"), 0o755); os.RemoveAll(shared) })
	os.Chmod(shared, 0o755)
	bin := filepath.Join(shared, "tally")
	copyFile(t, tallyBinary(t), bin, 0o755)
	conf := filepath.Join(shared, "tally.toml")
	copyFile(t, cfg, conf, 0o644)
	dir := filepath.Join(shared, "copy")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "tally.db")
	copyFile(t, dbPath, copyPath, 0o444)
	os.Chmod(dir, 0o555)
	before := storetest.DirState(t, dir)
	for _, args := range reportCommands {
		cmd := exec.Command(bin, append([]string{"--config", conf, "--db", copyPath}, args...)...)
		cmd.Env = append(os.Environ(), "TALLY_CONFIG=", "TALLY_SECRET=")
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		out, err := cmd.Output()
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("cannot run as nobody here: %v", err)
		}
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Errorf("%v: %v\n%s", args, err, stderr)
			continue
		}
		if args[0] == "export" && string(out) != wantExportCSV {
			t.Errorf("export:\n%s\nwant\n%s", out, wantExportCSV)
		}
		if args[0] == "audit" && args[1] == "verify" && !strings.HasPrefix(string(out), "audit log intact") {
			t.Errorf("audit verify: %q", out)
		}
	}
	if after := storetest.DirState(t, dir); after != before {
		t.Errorf("folder changed:\n%s\nwant\n%s", after, before)
	}
}

// copyFile copies from to the new file to, with mode.
func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(to, mustRead(t, from), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
}
