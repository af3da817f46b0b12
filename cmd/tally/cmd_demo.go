package main

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/demo"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/report"
	"github.com/tally-health/tally/store"
)

func newDemoCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Quick start: sample consent and events through the real intake, rollup, and a dry-run upload to outbox/",
		Long: `Run the whole pipeline on sample data in the current folder, with no
configuration and no secrets: create tally.db, import sample consents (as
tally consent import does: a consent tool's history of ten days), send
sample events (some without consent, some carrying emails and page URLs)
through the real HTTP intake, seal the finished days, write the exact upload
request bodies for every platform to outbox/ instead of sending them, and
write the campaign report to tally-report.html.
Running it again starts the demo database over; a database that the demo
did not create is never touched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.demoEnv()
			if err != nil {
				return err
			}
			opt := demo.Options{DB: e.cfg.Store.Path, MinCount: e.cfg.Privacy.MinCount, CarryDays: e.cfg.Privacy.CarryDays, Now: e.now, Out: e.stdout}
			return demo.Run(cmd.Context(), opt, e.demoPieces())
		},
	}
}

// demoEnv is the environment with the built-in demo configuration (see
// config.Demo): never a tally.toml, the demo is self-contained.
func (g *globalOptions) demoEnv() (*env, error) {
	g.configPath = os.DevNull
	e, err := g.load()
	if err != nil {
		return nil, err
	}
	e.cfg, err = config.Demo(g.dbPath)
	e.configFile = "(built-in demo configuration)"
	return e, err
}

// demoPieces are the real intake, rollup and dry-run upload.
func (e *env) demoPieces() demo.Pieces {
	serve := func(ctx context.Context, db *store.DB) (*intake.Listener, error) { return e.startIntakeServer(ctx, db) }
	return demo.Pieces{Open: e.openDB, Intake: e.newIntake, Serve: serve, Delivery: e.delivery,
		Roller:  func(db *store.DB) (*batch.Roller, error) { return wire.Roller(db, e.cfg, e.now, time.Now) },
		Targets: func() ([]batch.Target, error) { return wire.Targets(e.cfg, "", true) },
		Report: func(ctx context.Context, db *store.DB, path string) error {
			_, err := e.writeReport(ctx, db, report.Options{}, path)
			return err
		},
	}
}
