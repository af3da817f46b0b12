// Command tally-load measures the HTTP intake of a real `tally serve`
// subprocess: accepted events per second and latency for single-event and
// batched POSTs, the raw SQLite insert ceiling on the same machine, and the
// server's peak RSS. See BENCHMARKS.md for how to run it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	tally    string
	duration time.Duration
	clients  int
	batches  string
	visitors int
	// bound is privacy.max_cells_per_visitor_day for the server; 0
	// leaves the key out (a binary from before issue 16 refuses it).
	bound   int
	keep    bool
	profile string
	soak    soakOptions
}

func main() {
	var o options
	flag.StringVar(&o.tally, "tally", "", "path to the tally binary (required; build with go build -o /tmp/tally ./cmd/tally)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each scenario")
	flag.IntVar(&o.clients, "clients", 64, "concurrent clients")
	flag.StringVar(&o.batches, "batches", "1,100", "comma-separated events per request, one scenario each")
	flag.IntVar(&o.visitors, "visitors", 20000, "visitors with consent (events spread over them)")
	flag.IntVar(&o.bound, "visitor-bound", 100, "privacy.max_cells_per_visitor_day for the server (each visitor converts in many campaigns a day here; the default of 1 would drop all but the first as over_bound); 0 = leave the key out, for binaries before it existed")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder")
	flag.StringVar(&o.profile, "cpuprofile", "", "have serve write a CPU profile here")
	flag.BoolVar(&o.soak.on, "soak", false, "soak instead: mixed traffic and a concurrent tally run (see soak.go)")
	flag.DurationVar(&o.soak.duration, "soak-duration", 60*time.Second, "length of the soak")
	flag.DurationVar(&o.soak.runEvery, "run-every", 10*time.Second, "soak: start a tally run this often")
	flag.Parse()
	if o.tally == "" {
		fmt.Fprintln(os.Stderr, "tally-load: --tally is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "tally-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "tally-load-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	if o.soak.on {
		return soak(ctx, o, dir)
	}
	ceiling, err := insertCeiling(ctx, filepath.Join(dir, "ceiling.db"), 3*time.Second)
	if err != nil {
		return fmt.Errorf("insert ceiling: %w", err)
	}
	fmt.Printf("raw SQLite insert ceiling (1000 rows/tx, same driver): %.0f rows/s\n", ceiling)

	cfg, err := writeConfig(dir, "load.toml", "", o.bound)
	if err != nil {
		return err
	}
	srv, err := startServerConfig(ctx, o.tally, dir, o.visitors, o.profile, cfg)
	if err != nil {
		return err
	}
	defer srv.stop()
	var seq atomic.Int64
	for _, b := range strings.Split(o.batches, ",") {
		var batch int
		if _, err := fmt.Sscanf(strings.TrimSpace(b), "%d", &batch); err != nil || batch < 1 {
			return fmt.Errorf("--batches: bad value %q", b)
		}
		res, err := scenario(ctx, srv.base, o, batch, &seq)
		if err != nil {
			return err
		}
		res.print(batch, ceiling)
	}
	rss, err := srv.peakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("serve peak RSS (VmHWM): %.1f MB\n", float64(rss)/1024)
	return nil
}

// result aggregates one scenario.
type result struct {
	requests, accepted, other int64
	codes                     map[int]int64
	latencies                 []time.Duration
	elapsed                   time.Duration
}

func (r *result) print(batch int, ceiling float64) {
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[int(p*float64(len(r.latencies)-1))]
	}
	rate := float64(r.accepted) / r.elapsed.Seconds()
	fmt.Printf("batch=%d: %d requests in %s, %.0f accepted events/s (%.0f%% of ceiling), not accepted %d, p50 %s p99 %s max %s, status %v\n",
		batch, r.requests, r.elapsed.Round(time.Millisecond), rate, 100*rate/ceiling, r.other,
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond), r.codes)
}

// scenario runs o.clients clients posting batches of size batch for o.duration.
func scenario(ctx context.Context, base string, o options, batch int, seq *atomic.Int64) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	res := &result{codes: map[int]int64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := newRawClient(strings.TrimPrefix(base, "http://"))
			defer client.close()
			var lat []time.Duration
			codes := map[int]int64{}
			var reqs, acc, other int64
			for ctx.Err() == nil {
				body := eventsBody(seq, batch, o.visitors)
				t0 := time.Now()
				code, accepted, err := post(ctx, client, body)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					codes[-1]++
					continue
				}
				lat = append(lat, time.Since(t0))
				reqs++
				codes[code]++
				acc += int64(accepted)
				other += int64(batch - accepted)
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.requests += reqs
			res.accepted += acc
			res.other += other
			for k, v := range codes {
				res.codes[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res, nil
}

// eventsBody builds batch events. Event n goes to visitor n%V in campaign
// n/V, so no (visitor, cell) repeats and every event can be accepted.
func eventsBody(seq *atomic.Int64, batch, visitors int) []byte {
	var b bytes.Buffer
	if batch > 1 {
		b.WriteString(`{"events":[`)
	}
	for i := 0; i < batch; i++ {
		n := seq.Add(1)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"event_id":"load-%d","event":"appointment_booked","visitor_id":"visitor-%d","source":"facebook","campaign":"c%d"}`,
			n, n%int64(visitors), n/int64(visitors))
	}
	if batch > 1 {
		b.WriteString(`]}`)
	}
	return b.Bytes()
}

func post(ctx context.Context, client *rawClient, body []byte) (int, int, error) {
	code, b, err := client.post(ctx, "/v1/events", body)
	if err != nil {
		return 0, 0, err
	}
	if code != http.StatusOK {
		return code, 0, nil
	}
	var s struct{ Accepted int }
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, 0, errors.New("bad summary")
	}
	return code, s.Accepted, nil
}
