package main

import (
	"context"
	"net/http"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/snippet"
	"github.com/tally-health/tally/store"
)

// newIntake wires the intake over db with the configured checks; close its Writer when done.
func (e *env) newIntake(ctx context.Context, db *store.DB) (*intake.Intake, error) {
	key, err := e.hashKey(ctx, db)
	if err != nil {
		return nil, err
	}
	loc, err := e.location()
	if err != nil {
		return nil, err
	}
	p, err := intake.NewPipeline(wire.IntakeOptions(e.cfg, key, loc))
	if err != nil {
		return nil, err
	}
	p.Now = e.now
	return intake.New(p, db, db.Path, intake.WriterOptions{Audit: db, Now: e.now, Log: e.log})
}

// withIntake opens the database with open and runs fn on it and its intake.
func (e *env) withIntake(ctx context.Context, open func(context.Context) (*store.DB, error), fn func(*store.DB, *intake.Intake) error) error {
	db, err := open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return err
	}
	defer in.Writer.Close()
	return fn(db, in)
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
