package job

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

// Metrics are the batch job's Prometheus series, read from the database
// at each scrape (`tally schedule`'s /metrics) or file write (`tally run
// --metrics-file`), so a restarted process reports the same. The last run
// is the last run_end audit entry. Labels hold only fixed vocabularies.
type Metrics struct {
	DB  *store.DB
	Loc *time.Location   // rollup.timezone: a day's conversions carry its noon there
	Now func() time.Time // the wall clock, which platforms judge windows by
}

// The series. Their names are what deploy/prometheus/alerts.yml uses (a
// test checks every name there is one of these or the intake's).
var (
	lastSuccessDesc = prometheus.NewDesc("tally_run_last_success_timestamp_seconds",
		"When the last run that succeeded in every step ended (Unix time); absent until one has.", nil, nil)
	lastEndDesc = prometheus.NewDesc("tally_run_last_end_timestamp_seconds",
		"When the last run ended (Unix time), whatever its outcome; absent until one has.", nil, nil)
	lastDurationDesc = prometheus.NewDesc("tally_run_last_duration_seconds",
		"How long the last run took.", nil, nil)
	lastOutcomeDesc = prometheus.NewDesc("tally_run_last_outcome",
		"1 for the outcome of the last run (ok, failed, stopped), 0 for the others.", []string{"outcome"}, nil)
	cellsDesc = prometheus.NewDesc("tally_cells",
		"Cells of sealed days (daily_counts rows) by release status.", []string{"status"}, nil)
	conversionsDesc = prometheus.NewDesc("tally_conversions",
		"Synthetic conversions of released cells by platform and delivery state: sent (acknowledged), pending (not sent yet), "+
			"expired (past the platform's window, never sent), uncertain (outcome unknown, GA4), failed (refused for good).",
		[]string{"platform", "state"}, nil)
	oldestPendingDesc = prometheus.NewDesc("tally_upload_oldest_pending_age_seconds",
		"Age of the oldest pending conversion per platform, from its event time (noon of its day in rollup.timezone); 0 when none is pending.",
		[]string{"platform"}, nil)
)

// runOutcomes and conversionStates are the label values always reported,
// so that a series exists at 0 before the first event of its kind.
var (
	runOutcomes      = []string{store.RunOK, store.RunFailed, store.RunStopped}
	cellStatuses     = []tally.Status{tally.Released, tally.Held, tally.Suppressed}
	conversionStates = []tally.State{tally.Sent, tally.Pending, tally.Expired, tally.Uncertain, tally.Failed}
)

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 10 * time.Second

// Describe implements prometheus.Collector.
func (m Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{lastSuccessDesc, lastEndDesc, lastDurationDesc, lastOutcomeDesc, cellsDesc, conversionsDesc, oldestPendingDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A database that cannot be read
// fails the scrape (an invalid metric), rather than reporting zeros.
func (m Metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	s, err := m.DB.JobStatus(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(lastSuccessDesc, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if s.LastOK != nil {
		gauge(lastSuccessDesc, unixSeconds(s.LastOK.At))
	}
	if s.LastRun != nil {
		gauge(lastEndDesc, unixSeconds(s.LastRun.At))
		gauge(lastDurationDesc, s.LastRun.Took.Seconds())
		for _, o := range runOutcomes {
			gauge(lastOutcomeDesc, b2f(o == s.LastRun.Status), o)
		}
	}
	for _, st := range cellStatuses {
		gauge(cellsDesc, float64(s.Cells[st]), st.String())
	}
	now := m.Now()
	for _, p := range tally.UploadPlatforms {
		d := s.Deliveries[p]
		by := map[tally.State]int64{tally.Sent: d.Sent, tally.Pending: d.Pending, tally.Expired: d.Expired,
			tally.Uncertain: d.Uncertain, tally.Failed: d.Failed}
		for _, st := range conversionStates {
			gauge(conversionsDesc, float64(by[st]), string(p), st.String())
		}
		age := 0.0
		if d.OldestPending != "" {
			at, err := batch.EventTime(d.OldestPending, m.Loc)
			if err != nil {
				ch <- prometheus.NewInvalidMetric(oldestPendingDesc, err)
				continue
			}
			age = max(0, now.Sub(at).Seconds())
		}
		gauge(oldestPendingDesc, age, string(p))
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WriteFile writes the metrics to path in the Prometheus text format, for
// node_exporter's textfile collector: to a temporary file in the same
// folder, renamed over path when complete (prometheus.WriteToTextfile), so
// the collector never reads half a file.
func (m Metrics) WriteFile(path string) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(m); err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

// CheckMetricsFile reports a --metrics-file whose folder does not exist,
// or that is a folder, before a run starts rather than after it has
// worked.
func CheckMetricsFile(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return tally.WithKind(tally.KindUsage, fmt.Errorf("--metrics-file: %s: no such directory", dir))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return tally.WithKind(tally.KindUsage, fmt.Errorf("--metrics-file: %s is a folder: name a file in it, such as %s", path, filepath.Join(path, "tally.prom")))
	}
	return nil
}
