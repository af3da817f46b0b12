package intake

import (
	"context"
	"errors"
	"sync"

	"github.com/tally-health/tally/store"
)

// ErrBusy means the write queue is full: the caller should answer 503 and
// the client retry. Nothing of the request was stored.
var ErrBusy = errors.New("intake: write queue full")

// ErrClosed means the writer is shutting down.
var ErrClosed = errors.New("intake: writer closed")

// IntakeCommitter commits groups of intake writes in one transaction.
type IntakeCommitter interface {
	WriteIntake(ctx context.Context, rule store.ConsentRule, writes []*store.IntakeWrite) error
}

// Writer is the single writer goroutine: it drains whatever requests are
// queued and commits them together (group commit), so each request is
// acknowledged only after its events are durable, yet a commit carries many
// requests.
type Writer struct {
	db        IntakeCommitter
	rule      store.ConsentRule
	queue     chan *job
	done      chan struct{}
	mu        sync.RWMutex
	closed    bool
	maxEvents int
	// OnCommit, when set, is called after each commit with the number of
	// requests and events it carried.
	OnCommit func(requests, events int)
}

type job struct {
	w    *store.IntakeWrite
	done chan error
}

// NewWriter starts a writer with a queue of queueLen requests; a commit
// carries at most maxEvents events (beyond the first request). rule is the
// consent every event must hold.
func NewWriter(db IntakeCommitter, rule store.ConsentRule, queueLen, maxEvents int) *Writer {
	w := &Writer{db: db, rule: rule, queue: make(chan *job, queueLen), done: make(chan struct{}), maxEvents: maxEvents}
	go w.loop()
	return w
}

// Submit queues iw and waits for its commit. On success every event in iw
// has its Outcome set. ErrBusy when the queue is full.
func (w *Writer) Submit(ctx context.Context, iw *store.IntakeWrite) error {
	j := &job{w: iw, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- j:
	default:
		w.mu.RUnlock()
		return ErrBusy
	}
	w.mu.RUnlock()
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		// The commit may still happen; it is simply not acknowledged.
		return ctx.Err()
	}
}

// SubmitWait is Submit for batch importers: when the queue is full it waits
// for room instead of failing.
func (w *Writer) SubmitWait(ctx context.Context, iw *store.IntakeWrite) error {
	j := &job{w: iw, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- j:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	return <-j.done
}

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
	for j := range w.queue {
		group := []*job{j}
		n := len(j.w.Events)
	drain:
		for n < w.maxEvents {
			select {
			case next, ok := <-w.queue:
				if !ok {
					break drain
				}
				group = append(group, next)
				n += len(next.w.Events)
			default:
				break drain
			}
		}
		writes := make([]*store.IntakeWrite, len(group))
		for i, g := range group {
			writes[i] = g.w
		}
		// A background context: a request whose client went away must not
		// abort the commit of the others in its group.
		err := w.db.WriteIntake(context.Background(), w.rule, writes)
		if err == nil && w.OnCommit != nil {
			w.OnCommit(len(group), n)
		}
		for _, g := range group {
			g.done <- err
		}
	}
}
