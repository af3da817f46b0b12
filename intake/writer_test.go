package intake_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/store"
)

// blockingStore holds every commit until released.
type blockingStore struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingStore) WriteIntake(context.Context, func(*store.IntakeTx) error) error {
	b.started <- struct{}{}
	<-b.release
	return nil
}

func events(n int) *intake.Write {
	return &intake.Write{Candidates: make([]intake.Candidate, n)}
}

// TestWriterBoundsQueuedEvents: while a commit is in flight, requests wait
// in the queue only up to MaxQueuedEvents; beyond it Submit answers ErrBusy
// at once (503), and room returns once the queue drains.
func TestWriterBoundsQueuedEvents(t *testing.T) {
	b := &blockingStore{started: make(chan struct{}, 10), release: make(chan struct{})}
	w := intake.NewWriter(b, intake.Rules{}, intake.WriterOptions{QueueLen: 100, MaxQueuedEvents: 11, MaxEvents: 1})
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { _, err := w.Submit(ctx, events(1)); first <- err }()
	<-b.started // the first commit is in flight and holds the writer
	queued := make(chan error, 1)
	go func() { _, err := w.Submit(ctx, events(10)); queued <- err }()
	deadline := time.Now().Add(10 * time.Second) // a failure guard, not a wait
	// The in-flight event counts until its commit ends: 1 + 10 = 11.
	for w.Queued() < 11 {
		if time.Now().After(deadline) {
			t.Fatalf("queued events = %d, want 11", w.Queued())
		}
		runtime.Gosched()
	}
	// The bound is reached: one more event is refused at once.
	if _, err := w.Submit(ctx, events(1)); !errors.Is(err, intake.ErrBusy) {
		t.Fatalf("over the bound: %v, want ErrBusy", err)
	}
	close(b.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-queued; err != nil {
		t.Fatal(err)
	}
	w.Close()
	if w.Queued() != 0 {
		t.Errorf("queued events after drain = %d, want 0", w.Queued())
	}
}
