package intake

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the intake's Prometheus series. Labels hold only fixed
// vocabularies (routes, status codes, outcomes, reasons), never input.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	outcomes *prometheus.CounterVec
	commits  prometheus.Histogram
	// labels counts consent sources and versions dropped because they are
	// not on consent.sources or consent.versions.
	labels *prometheus.CounterVec
}

// NewMetrics registers tally's series plus the Go and process collectors
// on a registry of its own.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tally_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_intake_events_total", Help: "Intake events by outcome and drop reason.",
		}, []string{"outcome", "reason"}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tally_intake_commit_events", Help: "Events per group-commit transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		labels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_consent_labels_dropped_total",
			Help: "Consent labels not stored because they are not on consent.sources or consent.versions, by label (source, version).",
		}, []string{"label"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.outcomes, m.commits, m.labels,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds other collectors to the registry /metrics serves (the
// batch job's series in `tally schedule`).
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("intake: metrics: %w", err)
		}
	}
	return nil
}

// Handler serves the registry in Prometheus text format.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

func (m *Metrics) countOutcomes(c Counts) {
	if m == nil {
		return
	}
	for k, n := range c {
		if n != 0 {
			m.outcomes.WithLabelValues(k.Outcome.String(), k.Reason.String()).Add(float64(n))
		}
	}
}

func (m *Metrics) countLabelDropped(label string) {
	if m != nil {
		m.labels.WithLabelValues(label).Inc()
	}
}

// ObserveCommit records one group commit's size.
func (m *Metrics) ObserveCommit(_, events int) {
	if m != nil {
		m.commits.Observe(float64(events))
	}
}

func (m *Metrics) observeRequest(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}
