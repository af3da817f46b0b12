package main

import (
	"context"
	"net/http"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/snippet"
	"github.com/tally-health/tally/store"
)

// newIntake wires the intake over db with the configured checks; close its Writer when done.
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
	return intake.New(p, db, db.Path, intake.WriterOptions{Audit: db, Now: e.now, Log: e.log})
}

// startIntakeServer serves the intake and the browser snippet over db on intake.listen.
func (e *env) startIntakeServer(ctx context.Context, db *store.DB) (*intake.Listener, error) {
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return nil, err
	}
	s := intake.NewServer(in, db, db, e.log)
	s.Extra = map[string]http.Handler{snippet.Path: snippet.Handler()}
	return s.Listen(e.cfg.Intake.Listen, db.Path)
}
