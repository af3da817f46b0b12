//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

// TestServeSurvivesSIGKILL kills `tally serve` while 16 clients post
// single events and batches. Every event the server acknowledged as
// accepted (in a 200) must be stored after the crash, the database must
// pass SQLite's integrity check, a restarted server must answer the
// acknowledged events as duplicates, and intake must go on.
func TestServeSurvivesSIGKILL(t *testing.T) {
	dir, cfg := storeConfig(t, "crash", "[privacy]\nmax_cells_per_visitor_day = 100\n") // a client's visitor converts in many cells
	const visitors = 100
	var consents strings.Builder
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for v := range visitors {
		fmt.Fprintf(&consents, `{"visitor_id":"crash-v%d","purposes":{"advertising":true},"time":%q}`+"\n", v, at)
	}
	if code, out, errOut := runIn(t, dir, nil, "--config", cfg, "consent", "import", write(t, filepath.Join(dir, "consent.ndjson"), consents.String())); code != 0 {
		t.Fatalf("consent import: exit %d\n%s%s", code, out, errOut)
	}
	srv := startServe(t, dir, nil, "--config", cfg)

	// Event n belongs to visitor n%V in campaign c<n/V>: no two events
	// share a visitor and a cell, so a 200 accepts every event it carries.
	event := func(n int64) string {
		return fmt.Sprintf(`{"event_id":"crash-%d","event":"appointment_booked","visitor_id":"crash-v%d","source":"facebook","campaign":"c%d"}`,
			n, n%visitors, n/visitors)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	post := func(base string, events []string) (int, summary, error) {
		body := `{"events":[` + strings.Join(events, ",") + `]}`
		if len(events) == 1 {
			body = events[0]
		}
		resp, err := client.Post(base+"/v1/events", "application/json", strings.NewReader(body))
		if err != nil {
			return 0, summary{}, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, summary{}, err
		}
		var s summary
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, &s); err != nil {
				return 0, s, fmt.Errorf("bad summary %q: %v", b, err)
			}
		}
		return resp.StatusCode, s, nil
	}

	const killAfter = 300 // 200s seen before the kill
	var seq, oks atomic.Int64
	var killed atomic.Bool
	killNow := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var acked []string // every event a 200 accepted
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			size := 1 // half the clients post single events, half batches of 10
			if c%2 == 1 {
				size = 10
			}
			for {
				evs := make([]string, size)
				for i := range evs {
					evs[i] = event(seq.Add(1))
				}
				code, s, err := post("http://"+srv.Addr, evs)
				if err != nil {
					if !killed.Load() {
						t.Errorf("client %d before the kill: %v", c, err)
					}
					return
				}
				if code != http.StatusOK {
					// 503 is allowed back-pressure: nothing was acknowledged.
					if code != http.StatusServiceUnavailable {
						t.Errorf("client %d: HTTP %d", c, code)
						return
					}
					continue
				}
				if s.Accepted != len(evs) {
					t.Errorf("client %d: %d of %d accepted: %+v", c, s.Accepted, len(evs), s)
					return
				}
				mu.Lock()
				acked = append(acked, evs...)
				mu.Unlock()
				if oks.Add(1) == killAfter {
					once.Do(func() { close(killNow) })
				}
			}
		}()
	}
	select {
	case <-killNow:
	case <-time.After(60 * time.Second): // failure guard only
		t.Fatalf("only %d requests answered 200 in 60 s\n%s", oks.Load(), srv.logs.Bytes())
	}
	killed.Store(true)
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	wg.Wait()
	client.CloseIdleConnections()
	if t.Failed() {
		t.FailNow()
	}

	// The database opens cleanly and holds every acknowledged event.
	dbPath := filepath.Join(dir, "crash.db")
	db, err := store.Open(t.Context(), dbPath, store.Options{})
	if err != nil {
		t.Fatalf("open after SIGKILL: %v", err)
	}
	var check string
	var stored int
	if err := sqlfile.Open(t, db.Path).QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM events`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if stored < len(acked) {
		t.Fatalf("%d events stored, but %d were acknowledged as accepted: acknowledged events lost", stored, len(acked))
	}
	t.Logf("killed after %d 200s: %d events acknowledged, %d stored", oks.Load(), len(acked), stored)

	// A new server knows every acknowledged event (they come back as
	// duplicates) and accepts new ones.
	srv = startServe(t, dir, nil, "--config", cfg)
	base := "http://" + srv.Addr
	dups := 0
	for i := 0; i < len(acked); i += 500 {
		chunk := acked[i:min(i+500, len(acked))]
		code, s, err := post(base, chunk)
		if err != nil || code != http.StatusOK {
			t.Fatalf("resend: %d %v", code, err)
		}
		dups += s.Duplicates
	}
	if dups != len(acked) {
		t.Errorf("resent %d acknowledged events: %d duplicates, want all", len(acked), dups)
	}
	fresh := make([]string, 20)
	for i := range fresh {
		fresh[i] = event(seq.Add(1))
	}
	if code, s, err := post(base, fresh); err != nil || code != http.StatusOK || s.Accepted != len(fresh) {
		t.Errorf("intake after restart: %d %+v %v", code, s, err)
	}
	client.CloseIdleConnections()
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("serve after restart: exit %v\n%s", err, srv.logs.Bytes())
	}
}

// summary is the intake's 200 answer.
type summary struct {
	Accepted   int            `json:"accepted"`
	Duplicates int            `json:"duplicates"`
	Dropped    map[string]int `json:"dropped"`
}

// runFixture writes a config with every uploader enabled and pointed at
// endpoint (retention long enough to keep every day's events), grants
// consent to 12 visitors, and ingests one event per visitor for each
// (day, source, campaign): every cell holds 12 and is released.
func runFixture(t *testing.T, endpoint, now string, days, sources []string, campaigns int) (cfg, dbPath string) {
	t.Helper()
	setSecrets(t)
	t.Setenv("TALLY_SECRET", "crash-test-secret-0123456789")
	t.Setenv("TALLY_CONFIG", "")
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "tally.db")
	cfg = write(t, filepath.Join(dir, "tally.toml"), fmt.Sprintf(`[store]
path = %[1]q
retention_days = 120
[intake]
max_event_age = "2400h"
[privacy]
max_cells_per_visitor_day = 100 # each visitor converts in every cell
`, dbPath)+fakeUploaders(endpoint))
	var consents, events strings.Builder
	for v := range 12 {
		fmt.Fprintf(&consents, `{"visitor_id":"v%d","purposes":{"advertising":true},"time":"2026-09-01T00:00:00Z"}`+"\n", v)
		for _, d := range days {
			for _, src := range sources {
				for c := range campaigns {
					fmt.Fprintf(&events, `{"event_id":"%s-%s-%d-%d","event":"appointment_booked","visitor_id":"v%d","time":"%sT10:00:00Z","source":%q,"campaign":"c%d"}`+"\n",
						d, src, c, v, v, d, src, c)
				}
			}
		}
	}
	cf := write(t, filepath.Join(dir, "consent.ndjson"), consents.String())
	ef := write(t, filepath.Join(dir, "events.ndjson"), events.String())
	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "consent", "import", cf); code != 0 {
		t.Fatalf("consent import: %d %s %s", code, out, errOut)
	}
	want := 12 * len(days) * len(sources) * campaigns
	if code, out, errOut := runTally(t, "--config", cfg, "--now", now, "ingest", ef); code != 0 || !strings.HasPrefix(out, fmt.Sprintf("accepted %d,", want)) {
		t.Fatalf("ingest: %d %s %s", code, out, errOut)
	}
	return cfg, dbPath
}

// dayRange lists the days from..to.
func dayRange(t *testing.T, from, to string) []string {
	t0, err := time.Parse(time.DateOnly, from)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for d := t0; d.Format(time.DateOnly) <= to; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// startRun starts `tally run` with its log written to a pipe whose buffer
// is one page: once the test stops reading, the run blocks at its next
// log line, so it cannot race past the point where the test kills it.
func startRun(t *testing.T, cfg, now string) (*exec.Cmd, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	const fSetPipeSz = 1031 // F_SETPIPE_SZ
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), fSetPipeSz, 4096); e != 0 {
		t.Fatalf("shrink pipe: %v", e)
	}
	cmd := exec.Command(tallyBinary(t), "--config", cfg, "--now", now, "run")
	cmd.Env = os.Environ()
	cmd.Stdout, cmd.Stderr = io.Discard, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); r.Close() })
	return cmd, r
}

// readUntil reads r one byte at a time (so that nothing beyond the line
// is drained from the pipe) until a line containing want.
func readUntil(t *testing.T, r *os.File, want string) string {
	t.Helper()
	var all, line []byte
	b := make([]byte, 1)
	r.SetReadDeadline(time.Now().Add(60 * time.Second)) // failure guard only
	for {
		if _, err := r.Read(b); err != nil {
			t.Fatalf("run log ended before %q: %v\n%s", want, err, all)
		}
		all = append(all, b[0])
		if b[0] != '\n' {
			line = append(line, b[0])
			continue
		}
		if bytes.Contains(line, []byte(want)) {
			return string(line)
		}
		line = line[:0]
	}
}

// rerunAfterCrash checks the database opens cleanly after the kill and
// that a rerun right away takes over the dead run's lock (its process is
// gone) and completes.
func rerunAfterCrash(t *testing.T, cfg, dbPath, now string) string {
	t.Helper()
	db, err := store.Open(t.Context(), dbPath, store.Options{})
	if err != nil {
		t.Fatalf("open after SIGKILL: %v", err)
	}
	var check string
	if err := sqlfile.Open(t, db.Path).QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	var held int
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM locks WHERE name = ?`, job.LockName).Scan(&held)
	db.Close()
	if held != 1 {
		t.Errorf("the killed run left %d locks, want its own", held)
	}
	code, out, errOut := runBinary(t, nil, "--config", cfg, "--now", now, "run")
	if code != 0 {
		t.Fatalf("run right after the crash: exit %d\n%s\n%s", code, out, errOut)
	}
	return out
}

// assertSealedOnce checks every day sealed exactly once with cells cells
// each, that the audit recount agrees with every sealed day, and that the
// audit chain is intact.
func assertSealedOnce(t *testing.T, cfg, dbPath string, days []string, cells int) {
	t.Helper()
	db, err := store.Open(t.Context(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var sealed, rows, rollups int
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM days WHERE sealed_at IS NOT NULL`).Scan(&sealed)
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM daily_counts`).Scan(&rows)
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM audit_log WHERE kind = 'rollup'`).Scan(&rollups)
	db.Close()
	if sealed != len(days) || rows != len(days)*cells || rollups != len(days) {
		t.Errorf("%d days sealed, %d daily_counts rows, %d rollup audit entries; want %d, %d, %d",
			sealed, rows, rollups, len(days), len(days)*cells, len(days))
	}
	for _, d := range days {
		if code, out, errOut := runTally(t, "--config", cfg, "audit", "recount", "--date", d); code != 0 || !strings.Contains(out, fmt.Sprintf("all %d cells agree", cells)) {
			t.Errorf("recount %s: exit %d %s %s", d, code, out, errOut)
		}
	}
	if code, out, _ := runTally(t, "--config", cfg, "audit", "verify"); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Errorf("audit verify: exit %d %s", code, out)
	}
}

// TestRunKilledDuringRollup kills `tally run` after it has sealed the
// first of 40 due days and before it has sealed the last; the rerun must
// seal every day exactly once, recount must agree with each, and every
// released conversion must reach the platform exactly once.
func TestRunKilledDuringRollup(t *testing.T) {
	f := newFakePlatforms(t)
	const now = "2026-11-19T04:00:00Z"
	days := dayRange(t, "2026-10-10", "2026-11-18") // LinkedIn keeps 90 days
	cfg, dbPath := runFixture(t, f.URL, now, days, []string{"linkedin"}, 1)

	cmd, logs := startRun(t, cfg, now)
	readUntil(t, logs, `msg="day sealed" day=2026-10-10`)
	killAndWait(t, cmd)
	db, err := store.Open(t.Context(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sealed := sealedDays(t, db)
	db.Close()
	if sealed < 1 || sealed >= len(days) || f.total() != 0 {
		t.Fatalf("killed with %d of %d days sealed and %d requests sent: not during the rollup", sealed, len(days), f.total())
	}
	t.Logf("killed with %d of %d days sealed", sealed, len(days))

	out := rerunAfterCrash(t, cfg, dbPath, now)
	if !strings.Contains(out, fmt.Sprintf("linkedin: %d sent, 0 failed", 12*len(days))) {
		t.Errorf("rerun:\n%s", out)
	}
	assertSealedOnce(t, cfg, dbPath, days, 1)
	if ids, repeats := f.distinct("linkedin"); ids != 12*len(days) || repeats != 0 {
		t.Errorf("linkedin: %d distinct conversions, %d repeats; want %d once each", ids, repeats, 12*len(days))
	}
}

// TestRunKilledDuringUpload kills `tally run` after its rollup, while
// Meta, TikTok and LinkedIn each have a request in flight and GA4 has just
// been answered 2xx for its second request. The rerun must deliver every
// conversion to Meta/TikTok/LinkedIn, each id acknowledged once. GA4 does
// not deduplicate: the request in flight at the kill (if any) is
// uncertain after the rerun, never resent by it; only
// `tally upload --resend-uncertain` sends it, once.
func TestRunKilledDuringUpload(t *testing.T) {
	f := newFakePlatforms(t)
	const now = "2026-11-21T06:00:00Z"
	days := []string{"2026-11-19", "2026-11-20"} // inside GA4's 72 hours
	sources := []string{"facebook", "google", "tiktok", "linkedin"}
	cfg, dbPath := runFixture(t, f.URL, now, days, sources, 3)
	perPlatform := 12 * len(days) * 3

	arrived, ready := countdown(4)
	released := make(chan struct{})
	f.mu.Lock()
	f.hold = func(platform string, n int, r *http.Request) bool {
		if platform == "google" {
			if n >= 3 {
				<-released
				return false
			}
			return true
		}
		if n == 1 {
			arrived()
		}
		<-released
		return false
	}
	f.after = ga4AnsweredThenHeld(2, arrived, released)
	f.mu.Unlock()

	cmd, logs := startRun(t, cfg, now)
	go io.Copy(io.Discard, logs) // this kill point is the fake platforms', not the log's
	select {
	case <-ready:
	case <-time.After(60 * time.Second): // failure guard only
		close(released)
		t.Fatal("the run never reached the kill point")
	}
	killAndWait(t, cmd)
	for p, want := range map[string]int{"meta": 0, "tiktok": 0, "linkedin": 0, "google": 24} {
		if got, _ := f.distinct(p); got != want {
			t.Errorf("%s before the kill: %d acknowledged, want %d", p, got, want)
		}
	}
	f.mu.Lock()
	f.hold, f.after = nil, nil
	f.mu.Unlock()
	close(released)

	rerunAfterCrash(t, cfg, dbPath, now)
	assertSealedOnce(t, cfg, dbPath, days, len(sources)*3)
	for _, p := range []string{"meta", "tiktok", "linkedin"} {
		ids, repeats := f.distinct(p)
		if ids != perPlatform || repeats != 0 {
			t.Errorf("%s: %d distinct conversions, %d repeats; want %d, each once", p, ids, repeats, perPlatform)
		}
	}
	resendUncertain(t, dbPath, f, perPlatform, 12, "--config", cfg, "--now", now, "upload")
}
