package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// soakOptions configure --soak: mixed traffic against one serve for a
// while, with a `tally run` on the same database every runEvery.
type soakOptions struct {
	on       bool
	duration time.Duration
	runEvery time.Duration
}

// soakConfig gives the soak's runs real work: a Meta uploader in dry-run
// mode (request bodies go to the outbox) so each run seals, gates and
// "uploads"; days up to a week old are accepted, as by default.
const soakConfig = `[uploaders.meta]
enabled = true
dataset_id = "123456"
dry_run = true
`

// soakDays is how many past days the soak's events fall on. Run k
// evaluates "now" as day k of them, so each run seals one more day while
// intake keeps writing the days after it (and gets "late" for the sealed).
const soakDays = 6

// soakStats counts what the soak's clients saw.
type soakStats struct {
	mu        sync.Mutex
	codes     map[string]map[int]int64 // "events"/"consent" -> status -> requests
	netErrors int64
	accepted  int64
	latencies []time.Duration
}

func (s *soakStats) add(kind string, code int, accepted int, lat time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codes[kind] == nil {
		s.codes[kind] = map[int]int64{}
	}
	s.codes[kind][code]++
	s.accepted += int64(accepted)
	s.latencies = append(s.latencies, lat)
}

// soak runs the soak and prints its report; it fails when a request got
// a 5xx other than 503, a run failed, or the server died.
func soak(ctx context.Context, o options, dir string) error {
	cfg, err := writeConfig(dir, "soak.toml", soakConfig, o.bound)
	if err != nil {
		return err
	}
	srv, err := startServerConfig(ctx, o.tally, dir, o.visitors, o.profile, cfg)
	if err != nil {
		return err
	}
	defer srv.stop()
	// The soak's events fall on past days: grant consent from before them.
	if err := soakConsent(ctx, o, dir, cfg); err != nil {
		return err
	}
	pid := srv.cmd.Process.Pid
	g0, err := goroutines(srv.base)
	if err != nil {
		return err
	}
	rss0, err := procStatus(pid, "VmRSS")
	if err != nil {
		return err
	}
	fmt.Printf("soak: %s, %d clients (70%% single events, 20%% batches of 50, 10%% consent updates), tally run every %s\n",
		o.soak.duration, o.clients, o.soak.runEvery)
	fmt.Printf("t=0s rss %.1f MB goroutines %d\n", float64(rss0)/1024, g0)

	ctx, cancel := context.WithTimeout(ctx, o.soak.duration)
	defer cancel()
	stats := &soakStats{codes: map[string]map[int]int64{}}
	start := time.Now()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var seq atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakClient(ctx, srv.base, o.visitors, today, &seq, stats)
		}()
	}

	// Samples every 5 s; runs every runEvery.
	type sample struct {
		at    time.Duration
		rssKB int
	}
	var samples []sample
	var runs []string
	var runFailed bool
	runDone := make(chan string, 1)
	running := false
	nextRun := 1
	sampleT := time.NewTicker(5 * time.Second)
	defer sampleT.Stop()
	runT := time.NewTicker(o.soak.runEvery)
	defer runT.Stop()
	startRun := func() {
		if running {
			runs = append(runs, fmt.Sprintf("run %d skipped: previous still running", nextRun))
			nextRun++
			return
		}
		running = true
		// Run k evaluates now as 04:00 on day k of the soak's past days.
		now := today.AddDate(0, 0, -soakDays+nextRun).Add(4 * time.Hour)
		k := nextRun
		nextRun++
		go func() { runDone <- soakRun(o.tally, dir, cfg, k, now) }()
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-sampleT.C:
			rss, err := procStatus(pid, "VmRSS")
			if err != nil {
				return fmt.Errorf("serve died: %w", err)
			}
			samples = append(samples, sample{time.Since(start).Round(time.Second), rss})
		case <-runT.C:
			startRun()
		case r := <-runDone:
			running = false
			runs = append(runs, r)
			runFailed = runFailed || strings.Contains(r, "FAILED")
		}
	}
	wg.Wait()
	if running {
		r := <-runDone
		runs = append(runs, r)
		runFailed = runFailed || strings.Contains(r, "FAILED")
	}
	elapsed := time.Since(start)

	// The clients have closed their connections; give the server a moment
	// to end their goroutines before counting (polled, bounded).
	g1, err := goroutines(srv.base)
	for deadline := time.Now().Add(3 * time.Second); err == nil && g1 > g0+2 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		g1, err = goroutines(srv.base)
	}
	if err != nil {
		return err
	}
	rss1, err := procStatus(pid, "VmRSS")
	if err != nil {
		return err
	}
	hwm, _ := procStatus(pid, "VmHWM")

	for _, s := range samples {
		fmt.Printf("t=%s rss %.1f MB\n", s.at, float64(s.rssKB)/1024)
	}
	for _, r := range runs {
		fmt.Println(r)
	}
	bad := false
	var total int64
	for _, kind := range []string{"events", "consent"} {
		var parts []string
		var codes []int
		for c := range stats.codes[kind] {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			n := stats.codes[kind][c]
			total += n
			parts = append(parts, fmt.Sprintf("%d: %d", c, n))
			if c >= 500 && c != http.StatusServiceUnavailable {
				bad = true
			}
		}
		fmt.Printf("%s requests by status: %s\n", kind, strings.Join(parts, ", "))
	}
	sort.Slice(stats.latencies, func(i, j int) bool { return stats.latencies[i] < stats.latencies[j] })
	pct := func(p float64) time.Duration {
		return stats.latencies[int(p*float64(len(stats.latencies)-1))].Round(10 * time.Microsecond)
	}
	fmt.Printf("%d requests in %s (%.0f/s), %d events accepted, %d network errors, latency p50 %s p99 %s max %s\n",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), stats.accepted, stats.netErrors,
		pct(0.5), pct(0.99), pct(1))
	fmt.Printf("serve RSS: start %.1f MB, end %.1f MB, peak (VmHWM) %.1f MB\n",
		float64(rss0)/1024, float64(rss1)/1024, float64(hwm)/1024)
	fmt.Printf("serve goroutines: start %d, end %d\n", g0, g1)
	switch {
	case bad:
		return fmt.Errorf("soak: a 5xx other than 503")
	case stats.netErrors > 0:
		return fmt.Errorf("soak: %d network errors", stats.netErrors)
	case runFailed:
		return fmt.Errorf("soak: a tally run failed")
	case g1 > g0+2:
		return fmt.Errorf("soak: goroutines grew from %d to %d", g0, g1)
	}
	return nil
}

// soakClient posts until ctx ends: single events, batches of 50, and
// consent updates (grants, and now and then a withdrawal). Event times
// fall on the soak's past days and today.
func soakClient(ctx context.Context, base string, visitors int, today time.Time, seq *atomic.Int64, stats *soakStats) {
	client := newRawClient(strings.TrimPrefix(base, "http://"))
	defer client.close()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var b bytes.Buffer
	for ctx.Err() == nil {
		b.Reset()
		kind, path := "events", "/v1/events"
		switch r := rng.IntN(10); {
		case r == 0:
			kind, path = "consent", "/v1/consent"
			v := rng.IntN(visitors)
			grant := rng.IntN(20) != 0
			fmt.Fprintf(&b, `{"visitor_id":"visitor-%d","purposes":{"advertising":%t},"source":"soak-cmp","version":"v1"}`, v, grant)
		case r <= 2:
			b.WriteString(`{"events":[`)
			for i := 0; i < 50; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				soakEvent(&b, seq.Add(1), visitors, today, rng)
			}
			b.WriteString(`]}`)
		default:
			soakEvent(&b, seq.Add(1), visitors, today, rng)
		}
		t0 := time.Now()
		code, body, err := client.post(ctx, path, b.Bytes())
		if err != nil {
			if ctx.Err() == nil {
				stats.mu.Lock()
				stats.netErrors++
				stats.mu.Unlock()
			}
			continue
		}
		accepted := 0
		if kind == "events" && code == http.StatusOK {
			if i := bytes.Index(body, []byte(`"accepted":`)); i >= 0 {
				rest := body[i+len(`"accepted":`):]
				j := bytes.IndexAny(rest, ",}")
				accepted, _ = strconv.Atoi(string(rest[:max(j, 0)]))
			}
		}
		stats.add(kind, code, accepted, time.Since(t0))
	}
}

// soakEvent writes event n: visitor n%V in campaign n/V (no visitor twice
// in a cell), at noon of one of the past soakDays days or now.
func soakEvent(b *bytes.Buffer, n int64, visitors int, today time.Time, rng *rand.Rand) {
	at := time.Now().Add(-time.Minute)
	if d := rng.IntN(soakDays + 1); d > 0 {
		at = today.AddDate(0, 0, -d).Add(12 * time.Hour)
	}
	fmt.Fprintf(b, `{"event_id":"soak-%d","event":"appointment_booked","visitor_id":"visitor-%d","source":"facebook","campaign":"c%d","time":%d}`,
		n, n%int64(visitors), n/int64(visitors), at.Unix())
}

// soakConsent grants every visitor consent from before the soak's first day.
func soakConsent(ctx context.Context, o options, dir, cfg string) error {
	var b bytes.Buffer
	at := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -soakDays-1).Format(time.RFC3339)
	for v := 0; v < o.visitors; v++ {
		fmt.Fprintf(&b, `{"visitor_id":"visitor-%d","purposes":{"advertising":true},"time":%q}`+"\n", v, at)
	}
	file := filepath.Join(dir, "soak-consent.ndjson")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		return err
	}
	imp := exec.CommandContext(ctx, o.tally, "--db", filepath.Join(dir, "load.db"), "consent", "import", file)
	imp.Env = loadEnv(cfg)
	if out, err := imp.CombinedOutput(); err != nil {
		return fmt.Errorf("consent import: %v: %s", err, out)
	}
	return nil
}

// soakRun runs `tally run` on the soak's database as of now and describes
// what it did in one line.
func soakRun(bin, dir, cfg string, k int, now time.Time) string {
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "load.db"), "--now", now.Format(time.RFC3339), "run")
	cmd.Env = loadEnv(cfg)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	took := time.Since(t0).Round(time.Millisecond)
	var sealed, sent []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "sealed ") || strings.HasPrefix(line, "nothing to seal") {
			sealed = append(sealed, strings.TrimPrefix(line, "sealed "))
		}
		if strings.HasPrefix(line, "meta: ") {
			sent = append(sent, line)
		}
	}
	status := "ok"
	if err != nil {
		status = fmt.Sprintf("FAILED (%v): %s", err, out.String())
	}
	return fmt.Sprintf("run %d (--now %s) %s in %s: %s; %s", k, now.Format(time.RFC3339), status, took,
		strings.Join(sealed, "; "), strings.Join(sent, "; "))
}

// goroutines reads go_goroutines from serve's /metrics.
func goroutines(base string) (int, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	http.DefaultClient.CloseIdleConnections()
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("metrics: no go_goroutines")
}

// procStatus reads one kB field (VmRSS, VmHWM) of /proc/<pid>/status.
func procStatus(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}
