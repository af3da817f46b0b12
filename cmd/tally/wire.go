package main

import (
	"fmt"
	"time"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/store"
)

// newRoller builds the rollup job that cfg describes.
func newRoller(db *store.DB, cfg *config.Config, now func() time.Time) (*batch.Roller, error) {
	loc, err := time.LoadLocation(cfg.Rollup.Timezone)
	if err != nil {
		return nil, fmt.Errorf("rollup: timezone %q: %w", cfg.Rollup.Timezone, err)
	}
	return &batch.Roller{DB: db, Loc: loc, CloseAfter: cfg.Rollup.CloseAfter.D(),
		Gate: batch.Gate{GateParams: cfg.Privacy.GateParams()}, Now: now, Wall: time.Now}, nil
}
