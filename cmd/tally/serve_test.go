package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// server is a `tally serve` subprocess.
type server struct {
	cmd  *exec.Cmd
	Addr string
	logs *syncBuffer
	done chan error
}

var listenRE = regexp.MustCompile(`intake listening.*addr"?[=:]"?([0-9.:]+)`)

// startServe runs `tally serve` with args and waits until it listens.
func startServe(t *testing.T, dir string, env []string, args ...string) *server {
	t.Helper()
	return startListening(t, dir, env, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
}

// startListening runs tally in dir with args (serve or schedule) and env
// added (TALLY_CONFIG and TALLY_SECRET unset unless env sets them), and
// waits until its intake listens.
func startListening(t *testing.T, dir string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(tallyBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"TALLY_CONFIG=", "TALLY_SECRET="}, env...)...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Bytes()
			s.logs.Write(append(line, '\n'))
			if m := listenRE.FindSubmatch(line); m != nil {
				select {
				case addr <- string(m[1]):
				default:
				}
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		s.done <- err
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case s.Addr = <-addr:
	case err := <-s.done:
		t.Fatalf("serve exited early: %v\n%s", err, s.logs.Bytes())
	case <-ctx.Done():
		t.Fatalf("serve did not start listening:\n%s", s.logs.Bytes())
	}
	return s
}

// call sends body (JSON, with the headers in hdr) to path on the server
// and returns the answer's status and body.
func (s *server) call(t *testing.T, method, path, body string, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// post sends body as JSON to path on the server (with the headers in
// hdr), fails the test unless the answer is 200, and returns the answer
// decoded and as sent.
func (s *server) post(t *testing.T, path string, body any, hdr map[string]string) (map[string]any, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	code, answer := s.call(t, http.MethodPost, path, string(b), hdr)
	if code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, code, answer)
	}
	var out map[string]any
	if err := json.Unmarshal(answer, &out); err != nil {
		t.Fatalf("%s: %v in %s", path, err, answer)
	}
	return out, answer
}

// stop sends SIGTERM and returns the exit error (nil for exit 0).
func (s *server) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not exit after signal")
		return nil
	}
}
