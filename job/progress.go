package job

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tally-health/tally"
)

// progress redraws one line of per-platform counts, at most every 200 ms.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	counts map[tally.Platform]int
	last   time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w, counts: map[tally.Platform]int{}} }

func (p *progress) add(platform tally.Platform, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[platform] += n
	if time.Since(p.last) >= 200*time.Millisecond {
		p.draw()
	}
}

func (p *progress) draw() {
	p.last = time.Now()
	var parts []string
	for _, pl := range tally.UploadPlatforms {
		if n, ok := p.counts[pl]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", pl, n))
		}
	}
	fmt.Fprintf(p.w, "\ruploading: %s conversions", strings.Join(parts, ", "))
}

func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.counts) > 0 {
		p.draw()
		fmt.Fprintln(p.w)
	}
}
