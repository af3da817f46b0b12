package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// server is the `tally serve` under test.
type server struct {
	cmd  *exec.Cmd
	base string
}

var listenRE = regexp.MustCompile(`intake listening.*addr=([0-9.:]+)`)

// writeConfig writes the configuration file the tool's tally reads: base,
// plus privacy.max_cells_per_visitor_day = bound when bound > 0. Each
// load visitor converts in many campaigns a day, which the default bound
// of 1 would drop as over_bound after the first.
func writeConfig(dir, name, base string, bound int) (string, error) {
	if bound > 0 {
		base += fmt.Sprintf("\n[privacy]\nmax_cells_per_visitor_day = %d\n", bound)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return path, nil
}

// loadEnv is the environment of every tally the tool starts; config, when
// set, is the configuration file they read.
func loadEnv(config string) []string {
	return append(os.Environ(), "TALLY_SECRET=load-test-secret-0123456789", "TALLY_CONFIG="+config)
}

// startServerConfig is startServer with a configuration file.
func startServerConfig(ctx context.Context, bin, dir string, visitors int, profile, config string) (*server, error) {
	env := loadEnv(config)
	consent := filepath.Join(dir, "consent.ndjson")
	f, err := os.Create(consent)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for v := 0; v < visitors; v++ {
		fmt.Fprintf(w, `{"visitor_id":"visitor-%d","purposes":{"advertising":true},"time":%q}`+"\n", v, at)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	f.Close()
	db := filepath.Join(dir, "load.db")
	imp := exec.CommandContext(ctx, bin, "--db", db, "consent", "import", consent)
	imp.Env = env
	if out, err := imp.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("consent import: %v: %s", err, out)
	}
	args := []string{"--db", db, "serve", "--listen", "127.0.0.1:0"}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return &server{cmd: cmd, base: "http://" + m[1]}, nil
		}
	}
	cmd.Process.Kill()
	return nil, fmt.Errorf("serve exited before listening: %v", cmd.Wait())
}

// peakRSS reads the server's VmHWM in kB.
func (s *server) peakRSS() (int, error) {
	kb, err := procStatus(s.cmd.Process.Pid, "VmHWM")
	if err != nil {
		return 0, fmt.Errorf("read serve RSS: %w", err)
	}
	return kb, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}
