// Command benchupload measures `tally upload` end to end: it seeds one
// released Meta cell of N conversions, serves a local fake Meta Conversions
// API endpoint, runs the tally binary given as its argument against it,
// and reports wall time and the tally process's peak RSS.
//
//	go build -o /tmp/tally ./cmd/tally && go run ./scripts/benchupload -n 1000000 /tmp/tally
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/tally-health/tally/store"
)

func main() {
	n := flag.Int("n", 1_000_000, "conversions to upload")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: benchupload [-n N] PATH_TO_TALLY_BINARY")
	}
	bin := flag.Arg(0)
	dir, err := os.MkdirTemp("", "tally-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "tally.db")
	if err := seed(dbPath, *n); err != nil {
		log.Fatal(err)
	}

	var requests, events atomic.Int64
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	token := "bench-token"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Query().Get("access_token") != token {
			w.WriteHeader(401)
			return
		}
		k := bytes.Count(body, []byte(`"event_id"`))
		requests.Add(1)
		events.Add(int64(k))
		fmt.Fprintf(w, `{"events_received":%d,"messages":[],"fbtrace_id":"bench"}`, k)
	})}
	go srv.Serve(l)
	defer srv.Close()

	cfg := filepath.Join(dir, "tally.toml")
	toml := fmt.Sprintf(`[store]
path = %q
key_file = %q
[uploaders.meta]
enabled = true
endpoint = "http://%s"
dataset_id = "123456789"
rate = 100000.0
`, dbPath, filepath.Join(dir, "tally.key"), l.Addr())
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfg, "upload", "--now", "2026-11-21T06:00:00Z")
	cmd.Env = append(os.Environ(), "TALLY_META_TOKEN="+token)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("tally upload: %v", err)
	}
	wall := time.Since(start)
	st, _ := os.Stat(dbPath)
	fmt.Printf("conversions: %d sent in %d requests (fake Meta counted %d events)\n", *n, requests.Load(), events.Load())
	fmt.Printf("wall: %.2f s   peak RSS (tally): %.1f MB   user+sys CPU: %.2f s   database: %.0f MB\n",
		wall.Seconds(), peakRSSMB(cmd.ProcessState), (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), float64(st.Size())/(1<<20))
	if events.Load() != int64(*n) {
		log.Fatalf("fake Meta received %d events, want %d", events.Load(), *n)
	}
}

// seed creates the database with one released Meta cell of n conversions.
func seed(path string, n int) error {
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{}) // creates the file and its schema
	if err != nil {
		return err
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer raw.Close()
	_, err = raw.ExecContext(ctx, `INSERT INTO daily_counts
		(day, platform, campaign, conversion, raw_count, carried_in, noise, total, released_count, status,
		 carry_age, gate_min_count, gate_small_counts, gate_carry_days, gate_noise, gate_epsilon, sealed_at)
		VALUES ('2026-11-20', 'meta', 'bench_campaign', 'booking', ?, 0, 0, ?, ?, 'released', 0, 11, 'carry', 7, 'none', 1.0, '2026-11-21T03:00:00.000Z')`,
		n, n, n)
	return err
}
