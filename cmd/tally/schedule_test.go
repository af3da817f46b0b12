package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestScheduleBinary starts `tally schedule`: it logs its next run, serves
// intake, and drains and exits 0 on SIGTERM.
func TestScheduleBinary(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, filepath.Join(dir, "tally.toml"), "[store]\npath = \"s.db\"\nkey_file = \"s.key\"\n[schedule]\ncron = \"30 3 * * *\"\n")
	srv := startListening(t, dir, []string{"TALLY_SECRET=", "TALLY_CONFIG="}, "--config", cfg, "schedule", "--listen", "127.0.0.1:0")
	resp, err := http.Get("http://" + srv.Addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, srv.logs.Bytes())
	}
	logs := string(srv.logs.Bytes())
	for _, want := range []string{"schedule started", "next_run=", "intake stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}
