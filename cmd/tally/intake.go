package main

import (
	"context"
	"net/http"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/snippet"
	"github.com/tally-health/tally/store"
)

// newIntake wires the pipeline, writer and metrics over db. Close the
// returned intake's Writer when done.
func (e *env) newIntake(ctx context.Context, db *store.DB) (*intake.Intake, error) {
	key, err := e.hashKey(ctx, db)
	if err != nil {
		return nil, err
	}
	p, err := intake.NewPipeline(e.cfg, key)
	if err != nil {
		return nil, err
	}
	p.Now = e.now
	m := intake.NewMetrics()
	p.Metrics = m
	// Every commit is followed by a stat of the file, before anything is
	// acknowledged: events committed into a deleted or replaced file would
	// be acknowledged and lost.
	guard, err := intake.NewFileGuard(db.Path)
	if err != nil {
		return nil, err
	}
	w := intake.NewWriter(db, p.ConsentRule(), intake.WriterOptions{OnCommit: m.ObserveCommit, Audit: db, Now: e.now,
		Verify: guard.Check, Log: e.log})
	return &intake.Intake{Pipeline: p, Writer: w, Metrics: m}, nil
}

// startIntakeServer serves the HTTP intake (and the browser snippet) over
// db on intake.listen until the listener's Shutdown.
func (e *env) startIntakeServer(ctx context.Context, db *store.DB) (*intake.Listener, error) {
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return nil, err
	}
	s := intake.NewServer(in, db, db, e.log)
	s.Extra = map[string]http.Handler{snippet.Path: snippet.Handler()}
	return s.Listen(e.cfg.Intake.Listen, db.Path)
}
