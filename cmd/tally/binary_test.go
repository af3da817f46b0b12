package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// tallyBinary builds cmd/tally once per test run and returns its path.
func tallyBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tally-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "tally")
		out, err := exec.Command("go", "build", "-tags", "tallytest", "-o", builtPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			builtPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build tally: %v\n%s", buildErr, builtPath)
	}
	return builtPath
}

// syncBuffer collects a subprocess's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// runTally runs the command line args in this process, with no input,
// and returns its exit code and output.
func runTally(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runTallyStdin(t, "", args...)
}

// runTallyStdin runs the command line args in this process with stdin
// as its input.
func runTallyStdin(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// runIn runs the built tally in dir with env added (TALLY_CONFIG,
// TALLY_SECRET, TALLY_SECRET_FILE and CREDENTIALS_DIRECTORY unset unless env
// sets them).
func runIn(t *testing.T, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(tallyBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"TALLY_CONFIG=", "TALLY_SECRET=", "TALLY_SECRET_FILE=", "CREDENTIALS_DIRECTORY="}, env...)...)
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), string(out.Bytes()), string(errb.Bytes())
}

// runBinary runs the built tally with the fake credentials (plus env)
// and returns its exit code and output.
func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(tallyBinary(t), args...)
	cmd.Env = append(os.Environ(), "TALLY_CONFIG=")
	for k, v := range fakeSecrets {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute): // a failure guard, not a synchroniser
		cmd.Process.Kill()
		<-done
		t.Fatalf("tally %v did not finish\n%s\n%s", args, out.Bytes(), errb.Bytes())
	}
	return cmd.ProcessState.ExitCode(), string(out.Bytes()), string(errb.Bytes())
}

// killAndWait SIGKILLs cmd and checks it died of it.
func killAndWait(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("not killed by SIGKILL: %v", cmd.ProcessState)
	}
}

// write writes body to path (0600) and returns path.
func write(t testing.TB, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustRead returns the file at path.
func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storeConfig writes tally.toml in a new folder: the database name.db and
// its key name.key beside it, then extra. It returns the folder and the
// config's path.
func storeConfig(t *testing.T, name, extra string) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	cfg = write(t, filepath.Join(dir, "tally.toml"), fmt.Sprintf("[store]\npath = %q\nkey_file = %q\n", name+".db", name+".key")+extra)
	return dir, cfg
}
