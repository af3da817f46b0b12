package batch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// dryRun writes each request body, exactly as it would be sent, to
// <outbox>/<platform>/<run time>-<n>.json and marks the cells dry_run.
func (p *platformRun) dryRun(ctx context.Context, ups []*store.Upload) error {
	p.outDir = filepath.Join(p.d.Outbox, string(p.spec.Platform))
	if err := os.MkdirAll(p.outDir, 0o750); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	p.outStamp = p.d.Now().UTC().Format("20060102T150405Z")
	var stop error
	err := p.chunks(ups, func(c chunk) bool {
		if stop = ctx.Err(); stop == nil {
			stop = p.dryChunk(ctx, c)
		}
		return stop == nil
	})
	if err != nil {
		return err
	}
	return stop
}

// dryChunk writes one chunk's request body to the outbox.
func (p *platformRun) dryChunk(ctx context.Context, c chunk) error {
	c, err := p.live(ctx, c)
	if err != nil || len(c.conv) == 0 {
		return err
	}
	req, err := p.t.Uploader.Build(p.batchOf(c))
	if err != nil {
		return p.unbuildable(ctx, c, err, p.dryChunk)
	}
	p.outSeq++
	path := filepath.Join(p.outDir, fmt.Sprintf("%s-%06d.json", p.outStamp, p.outSeq))
	if err := os.WriteFile(path, req.Body, 0o640); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	for _, u := range c.owners() {
		u.State, u.LastError = tally.DryRun, ""
	}
	p.sum.DryRun += len(c.conv)
	p.progress(len(c.conv))
	return p.d.DB.SaveUploads(context.WithoutCancel(ctx), c.owners(), p.d.Now())
}
