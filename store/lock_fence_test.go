package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// A process that stalled past its lock's expiry (or whose lock row was
// edited) and was taken over records and answers no request after the
// takeover: its writes fail with ErrLockLost and change nothing, so it
// stops before sending anything twice.
func TestFencedWritesStopAfterTakeover(t *testing.T) {
	ctx := context.Background()
	a := storetest.Open(t)
	b, err := store.Open(ctx, a.Path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t0 := time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)
	lock, err := a.AcquireLock(ctx, "run", t0, 10*time.Minute, store.LockOptions{Owner: "host-a/1"})
	if err != nil {
		t.Fatal(err)
	}
	lock.Fence()
	req := func() *store.UploadRequest {
		return &store.UploadRequest{Platform: "google", Method: "POST", URL: "http://fake/google", Body: []byte(`{}`), Attempt: 1, SentAt: t0}
	}
	id, err := a.BeginUploadRequest(ctx, req(), nil)
	if err != nil {
		t.Fatalf("holder's request: %v", err)
	}

	// a stalls past the expiry; b takes the lock over.
	if _, err := b.AcquireLock(ctx, "run", t0.Add(11*time.Minute), 10*time.Minute, store.LockOptions{Owner: "host-b/2"}); err != nil {
		t.Fatal(err)
	}
	if err := a.FinishUploadRequest(ctx, id, &store.UploadResponse{Status: 204, ReceivedAt: t0}, nil); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("answer after the takeover: %v, want ErrLockLost", err)
	}
	if _, err := a.BeginUploadRequest(ctx, req(), nil); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("request after the takeover: %v, want ErrLockLost", err)
	}
	if err := a.SaveUploads(ctx, nil, t0); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("upload progress after the takeover: %v, want ErrLockLost", err)
	}
	rows, err := b.UploadRequests(ctx, "")
	if err != nil || len(rows) != 1 || rows[0].Status.Valid || rows[0].Error.Valid {
		t.Fatalf("requests = %+v, %v; want the one unanswered request", rows, err)
	}
	// The new holder, not fenced here, writes as usual.
	if _, err := b.BeginUploadRequest(ctx, req(), nil); err != nil {
		t.Errorf("new holder's request: %v", err)
	}
}
