// Package wire turns a configuration into tally's pieces: the intake's
// options, the rollup, the upload targets, the run job's retention and
// effective configuration, the logger, and the keyed-hash key checked
// against a database. Besides cmd it is the one package that imports
// config: the pieces themselves take plain values.
//
// Every error it returns is a configuration error (tally.KindConfig).
package wire

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

func configErr(err error) error { return tally.WithKind(tally.KindConfig, err) }

// Location is rollup.timezone.
func Location(cfg *config.Config) (*time.Location, error) {
	loc, err := time.LoadLocation(cfg.Rollup.Timezone)
	if err != nil {
		return nil, configErr(fmt.Errorf("rollup.timezone: %w", err))
	}
	return loc, nil
}

// Roller builds the rollup job over db that cfg describes; now is the
// clock days are due by, wall the system clock.
func Roller(db *store.DB, cfg *config.Config, now, wall func() time.Time) (*batch.Roller, error) {
	loc, err := time.LoadLocation(cfg.Rollup.Timezone)
	if err != nil {
		return nil, configErr(fmt.Errorf("rollup: timezone %q: %w", cfg.Rollup.Timezone, err))
	}
	return &batch.Roller{DB: db, Loc: loc, CloseAfter: cfg.Rollup.CloseAfter.D(),
		Gate: batch.Gate{GateParams: cfg.Privacy.GateParams()}, Now: now, Wall: wall}, nil
}

// IntakeOptions turns the configuration into the intake's options; key is
// the checked keyed-hash key, loc rollup.timezone.
func IntakeOptions(cfg *config.Config, key []byte, loc *time.Location) intake.Options {
	in, c := cfg.Intake, cfg.Consent
	return intake.Options{Key: key, Location: loc, MaxEventAge: in.MaxEventAge.D(), Events: cfg.Events, Sources: cfg.Sources,
		CampaignPattern: in.CampaignPattern, Campaigns: in.Campaigns, MaxCellsPerDay: in.MaxCellsPerDay,
		MaxCellsPerVisitorDay: cfg.Privacy.MaxCellsPerVisitorDay,
		ConsentPurpose:        c.Purpose, ConsentMaxAge: c.MaxAge.D(), HonorGPC: c.HonorGPC,
		RequireSensitive: c.RequireSensitive, TCFPurposes: c.TCFPurposes,
		ConsentSources: c.Sources, ConsentVersions: c.Versions,
		MaxBodyBytes: in.MaxBodyBytes, MaxBatch: in.MaxBatch, AllowedOrigins: in.AllowedOrigins,
		RatePerClient: in.RatePerClient, BurstPerClient: in.BurstPerClient}
}

// Retention is the run job's retention in days ([store]).
func Retention(cfg *config.Config) job.Retention {
	s := cfg.Store
	return job.Retention{Events: s.RetentionDays, Ledger: s.LedgerRetentionDays, Consents: s.ConsentRetentionDays}
}

// Effective is the configuration in force, as TOML, for the run job's
// audit entry.
func Effective(cfg *config.Config) (string, error) {
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(cfg); err != nil {
		return "", fmt.Errorf("run: encode effective config: %w", err)
	}
	return b.String(), nil
}

// Logger is the logger [log] describes, writing to w.
func Logger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
