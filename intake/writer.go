package intake

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tally-health/tally/store"
)

// ErrBusy means the write queue is full: the caller should answer 503 and
// the client retry. Nothing of the request was stored.
var ErrBusy = errors.New("intake: write queue full")

// ErrClosed means the writer is shutting down.
var ErrClosed = errors.New("intake: writer closed")

// Writer is the single writer goroutine: it drains whatever requests are
// queued and commits them together (group commit), so each request is
// acknowledged only after its events are durable, yet a commit carries many
// requests.
type Writer struct {
	queued  atomic.Int64 // events in queued, not yet committed requests
	db      IntakeCommitter
	rules   Rules
	opt     WriterOptions
	queue   chan *job
	done    chan struct{}
	mu      sync.RWMutex
	closed  bool
	summary auditSummary
	health  health
}

// WriterOptions tunes a Writer. Zero values take the defaults noted.
type WriterOptions struct {
	// QueueLen is how many requests may wait (default 4096); beyond it
	// Submit answers ErrBusy.
	QueueLen int
	// MaxQueuedEvents bounds the events waiting across all queued requests
	// (default 100,000), so memory stays bounded whatever the batch sizes;
	// beyond it Submit answers ErrBusy.
	MaxQueuedEvents int
	// MaxEvents caps the events of one commit beyond its first request
	// (default 20000: a commit of a big group shares index pages between
	// events, so the WAL gets fewer page writes per event).
	MaxEvents int
	// OnCommit, when set, is called after each commit with the number of
	// requests and events it carried.
	OnCommit func(requests, events int)
	// Audit, when set, receives an intake summary (counts by outcome and
	// reason) at most every AuditEvery (default 1m) and when the writer
	// closes.
	Audit      Auditor
	AuditEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Verify, when set, is called after each commit, before any of its
	// requests is acknowledged (one call per commit, not per event). An
	// error wrapping ErrFileChanged fails those requests and every later
	// one: the writer stops committing.
	Verify func() error
	// Log receives the health changes (default: discarded).
	Log *slog.Logger
}

// Auditor appends an entry to the audit log.
type Auditor interface {
	AppendAudit(ctx context.Context, kind string, detail any) error
}

// auditSummary accumulates committed outcomes between audit entries.
type auditSummary struct {
	since    time.Time
	commits  int
	requests int
	outcomes map[string]int
}

func (s *auditSummary) add(requests int, counts Counts) {
	if s.outcomes == nil {
		s.outcomes = map[string]int{}
	}
	s.commits++
	s.requests += requests
	for k, n := range counts {
		s.outcomes[k.Decision.String()] += n
	}
}

// flushAudit writes the summary when due (or when force) and nothing was
// lost: on failure the counts stay pending for the next attempt.
func (w *Writer) flushAudit(force bool) {
	if w.opt.Audit == nil || w.summary.commits == 0 {
		return
	}
	now := w.opt.Now()
	if !force && now.Sub(w.summary.since) < w.opt.AuditEvery {
		return
	}
	detail := map[string]any{
		"from": store.FormatTime(w.summary.since), "to": store.FormatTime(now),
		"commits": w.summary.commits, "requests": w.summary.requests, "outcomes": w.summary.outcomes,
	}
	if err := w.opt.Audit.AppendAudit(context.Background(), store.AuditIntake, detail); err != nil {
		return
	}
	w.summary = auditSummary{since: now}
}

type job struct {
	w      *Write
	events int    // w.events()
	counts Counts // w's outcomes, set by the writer before done
	done   chan error
}

// NewWriter starts a writer that decides every candidate under rules.
func NewWriter(db IntakeCommitter, rules Rules, opt WriterOptions) *Writer {
	if opt.QueueLen <= 0 {
		opt.QueueLen = 4096
	}
	if opt.MaxQueuedEvents <= 0 {
		opt.MaxQueuedEvents = 100_000
	}
	if opt.MaxEvents <= 0 {
		opt.MaxEvents = 20000
	}
	if opt.AuditEvery <= 0 {
		opt.AuditEvery = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{db: db, rules: rules, opt: opt, queue: make(chan *job, opt.QueueLen), done: make(chan struct{})}
	w.summary.since = opt.Now()
	go w.loop()
	return w
}

// Submit queues iw and waits for its commit, and returns its outcomes:
// iw.Counts plus one per candidate. ErrBusy when the queue is full.
func (w *Writer) Submit(ctx context.Context, iw *Write) (Counts, error) {
	return w.submit(ctx, iw, false)
}

// SubmitWait is Submit for batch importers: when the queue is full it waits
// for room instead of failing.
func (w *Writer) SubmitWait(ctx context.Context, iw *Write) (Counts, error) {
	return w.submit(ctx, iw, true)
}

func (w *Writer) submit(ctx context.Context, iw *Write, wait bool) (Counts, error) {
	j := &job{w: iw, events: iw.events(), done: make(chan error, 1)}
	if err := w.enqueue(ctx, j, wait); err != nil {
		return nil, err
	}
	select {
	case err := <-j.done:
		if err != nil {
			return nil, err
		}
		return j.counts, nil
	case <-ctx.Done():
		// The commit may still happen; it is simply not acknowledged.
		return nil, ctx.Err()
	}
}

// enqueue hands j to the writer loop, failing with ErrBusy on a full queue
// unless wait is set.
func (w *Writer) enqueue(ctx context.Context, j *job, wait bool) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.health.fatalErr(); err != nil {
		return err
	}
	if wait {
		// Importers wait for room in the queue instead; they submit one
		// chunk at a time, so they cannot pile up events.
		n := int64(j.events)
		w.queued.Add(n)
		select {
		case w.queue <- j:
			return nil
		case <-ctx.Done():
			w.queued.Add(-n)
			return ctx.Err()
		}
	}
	n := int64(j.events)
	if w.queued.Add(n) > int64(w.opt.MaxQueuedEvents) && n > 0 {
		w.queued.Add(-n)
		return ErrBusy
	}
	select {
	case w.queue <- j:
		return nil
	default:
		w.queued.Add(-n)
		return ErrBusy
	}
}

// Queued is the number of events waiting for a commit.
func (w *Writer) Queued() int64 { return w.queued.Load() }

// Close stops accepting, commits everything already queued and returns
// when the last commit is done.
func (w *Writer) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *Writer) loop() {
	defer close(w.done)
	defer w.flushAudit(true)
	for j := range w.queue {
		group := []*job{j}
		n := j.events
	drain:
		for n < w.opt.MaxEvents {
			select {
			case next, ok := <-w.queue:
				if !ok {
					break drain
				}
				group = append(group, next)
				n += next.events
			default:
				break drain
			}
		}
		var counts Counts
		err := w.health.fatalErr()
		if err == nil {
			// A background context: a request whose client went away must
			// not abort the commit of the others in its group.
			ctx := context.Background()
			err = w.db.WriteIntake(ctx, func(tx *store.IntakeTx) (err error) {
				counts, err = w.decideGroup(ctx, tx, group)
				return err
			})
			err = w.committed(err)
		}
		if err == nil {
			if w.opt.OnCommit != nil {
				w.opt.OnCommit(len(group), n)
			}
			w.summary.add(len(group), counts)
			w.flushAudit(false)
		}
		w.queued.Add(-int64(n))
		for _, g := range group {
			g.done <- err
		}
	}
}
