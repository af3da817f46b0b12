package intake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// ErrFileChanged means the database file was deleted or replaced while the
// intake had it open: commits still succeed, but into a file nobody will
// read again, so nothing more may be acknowledged.
var ErrFileChanged = errors.New("intake: database file deleted or replaced since it was opened")

// FileGuard notices that the database file at a path is no longer the file
// that was opened (deleted, renamed away, or replaced by another file).
type FileGuard struct {
	path string
	info os.FileInfo
}

// NewFileGuard remembers the identity (device and inode, or the platform's
// equivalent) of the file at path. Call it right after opening the database.
func NewFileGuard(path string) (*FileGuard, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("intake: stat database: %w", err)
	}
	return &FileGuard{path: path, info: info}, nil
}

// Check answers ErrFileChanged when path no longer names the file that was
// opened. One stat call: cheap enough for every commit.
func (g *FileGuard) Check() error {
	info, err := os.Stat(g.path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w (it is gone)", ErrFileChanged)
	}
	if err != nil {
		return fmt.Errorf("intake: stat database: %w", err)
	}
	if !os.SameFile(info, g.info) {
		return fmt.Errorf("%w (another file is at its path)", ErrFileChanged)
	}
	return nil
}

// health is the writer's view of the database: the last commit's error
// (cleared by the next commit that succeeds) and a fatal error (the file
// changed), which nothing clears but a restart.
type health struct {
	mu    sync.Mutex
	last  error
	fatal error
}

func (h *health) fatalErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fatal
}

func (h *health) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fatal != nil {
		return h.fatal
	}
	return h.last
}

// committed records the outcome of a commit: err is the commit's own error;
// after a successful commit the file is verified before anything is
// acknowledged. It returns the error to answer the commit's requests with.
func (w *Writer) committed(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// A caller that went away says nothing about the database.
		return err
	}
	if err == nil && w.opt.Verify != nil {
		err = w.opt.Verify()
	}
	h := &w.health
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.fatal != nil:
		return h.fatal
	case errors.Is(err, ErrFileChanged):
		h.fatal = err
		w.opt.Log.Error("intake: the database file was deleted or replaced; refusing every event and consent until restarted", "err", err)
	case err != nil && h.last == nil:
		w.opt.Log.Error("intake: commit failed; answering 503 until a commit succeeds", "err", err)
	case err == nil && h.last != nil:
		w.opt.Log.Info("intake: commits succeed again")
	}
	h.last = err
	return err
}

// Health checks the database file (when a Verify function is set) and
// reports the intake's state: nil when the last commit succeeded and the
// file is the one opened. /healthz answers 503 on an error.
func (w *Writer) Health() error {
	if w.health.fatalErr() == nil && w.opt.Verify != nil {
		if err := w.opt.Verify(); errors.Is(err, ErrFileChanged) {
			_ = w.committed(err)
		}
	}
	return w.health.err()
}

// Direct runs a write that does not go through the queue (a consent
// record) under the same health rules: refused once the file changed,
// its error recorded as the last commit's, and the file verified after it
// before the caller acknowledges anything.
func (w *Writer) Direct(write func() error) error {
	if err := w.health.fatalErr(); err != nil {
		return err
	}
	return w.committed(write())
}
