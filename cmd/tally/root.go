package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/store"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	configPath string
	dbPath     string
	now        string
	cpuProfile string
	profile    *os.File
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
}

// env is what a command needs once the global options are resolved.
type env struct {
	cfg        *config.Config
	configFile string
	log        *slog.Logger
	now        func() time.Time
	wall       func() time.Time // the system clock, whatever --now says
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	// key is the hashing key once hashKey has checked it.
	key []byte
	// asOf: --now was given; audit rows record it beside the wall clock.
	asOf bool
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "tally",
		Short:         "Measure ad campaigns without sending patient data to ad platforms",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&g.configPath, "config", "", "config file (default $TALLY_CONFIG, else ./tally.toml, else built-in defaults)")
	pf.StringVar(&g.dbPath, "db", "", "database file (overrides store.path)")
	pf.StringVar(&g.now, "now", "", "evaluate as of this RFC 3339 instant (backfills, tests)")
	pf.StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile to this file (for benchmarks)")
	_ = pf.MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return g.startProfile() }
	root.PersistentPostRun = func(*cobra.Command, []string) { g.stopProfile() }

	for _, newCmd := range []func(*globalOptions) *cobra.Command{
		newServeCmd, newScheduleCmd, newIngestCmd, newConsentCmd, // cmd_intake.go
		newRunCmd, newRollupCmd, newUploadCmd, // cmd_batch.go
		newExportCmd, newReportCmd, newAuditCmd, newScanCmd, // cmd_report.go
		newSpendCmd,   // cmd_spend.go
		newPrivacyCmd, // cmd_privacy.go
		newBackupCmd, newDemoCmd, newVersionCmd,
	} {
		root.AddCommand(newCmd(g))
	}
	wrapArgs(root)
	return root
}

// wrapArgs makes every positional-argument error a usage error (exit 2).
func wrapArgs(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error { return usageErr(args(c, a)) }
	}
	for _, sub := range cmd.Commands() {
		wrapArgs(sub)
	}
}

// wallClock is the system clock. Tests whose --now lies ahead of the real
// date set it (they run commands in this process, one at a time).
var wallClock = time.Now

// maxNowAhead is how far --now may lie beyond the system clock: a few
// time zones of slack for a backfill, never a day that has not come.
const maxNowAhead = 24 * time.Hour

// load resolves config, logger and clock. Every error is exit 2.
func (g *globalOptions) load() (*env, error) {
	cfg, file, err := config.Load(g.configPath)
	if err != nil {
		return nil, configErr(err)
	}
	if g.dbPath != "" {
		cfg.Store.Path = g.dbPath
	}
	now := time.Now
	if g.now != "" {
		t, err := time.Parse(time.RFC3339, g.now)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--now: want RFC 3339 like 2026-11-27T04:00:00Z, got %q", g.now))
		}
		if wall := wallClock(); t.After(wall.Add(maxNowAhead)) {
			return nil, usageErr(fmt.Errorf("--now %s is more than 24 hours after the system clock (%s): tally never acts on a day that has not come",
				g.now, wall.UTC().Format(time.RFC3339)))
		}
		now = func() time.Time { return t }
	}
	log := wire.Logger(cfg.Log, g.stderr)
	for _, p := range cfg.OthersCanRead() {
		log.Warn("secret file readable by other users", "path", p, "fix", "chmod o-r, or defaultMode 0440 on a Kubernetes secret volume")
	}
	return &env{
		cfg:        cfg,
		configFile: file,
		log:        log,
		now:        now,
		wall:       wallClock,
		stdin:      g.stdin,
		stdout:     g.stdout,
		stderr:     g.stderr,
		asOf:       g.now != "",
	}, nil
}

// report resolves the global options, opens the configured database
// read-only and runs a report command's fn on it, closing it after. fn
// checks db.Stable before reporting what it read.
func (g *globalOptions) report(ctx context.Context, fn func(*env, *store.DB) error) error {
	e, err := g.load()
	if err != nil {
		return err
	}
	db, err := e.openReadOnlyDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(e, db)
}

// openInput opens a named input file, or stdin for "-".
func (e *env) openInput(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(e.stdin), nil
	}
	return os.Open(name)
}

// openDB opens the configured database.
func (e *env) openDB(ctx context.Context) (*store.DB, error) {
	return e.auditClock(store.Open(ctx, e.cfg.Store.Path, store.Options{Synchronous: e.cfg.Store.Synchronous}))
}

// intakeCacheMB is the writer's page cache for commands that take events
// (serve, schedule, ingest): their indexes stay in memory.
const intakeCacheMB = 64

// openIntakeDB opens the database for a command that takes events.
func (e *env) openIntakeDB(ctx context.Context) (*store.DB, error) {
	return e.auditClock(store.Open(ctx, e.cfg.Store.Path, store.Options{Synchronous: e.cfg.Store.Synchronous, WriterCacheMB: intakeCacheMB}))
}

// auditClock tells a just-opened database whether this command runs as of
// --now, so its audit rows record that instant in as_of beside the wall
// clock (it passes Open's results through).
func (e *env) auditClock(db *store.DB, err error) (*store.DB, error) {
	if err == nil && e.asOf {
		db.SetAsOf(e.now()) // the --now instant: e.now is fixed to it
	}
	return db, err
}

// openReadOnlyDB opens the configured database for a report command: no
// migration, no file created (see store.OpenReadOnly).
func (e *env) openReadOnlyDB(ctx context.Context) (*store.DB, error) {
	return store.OpenReadOnly(ctx, e.cfg.Store.Path)
}

// hashKey is the keyed-hash key, checked against db's key fingerprint
// once per process (see wire.Key).
func (e *env) hashKey(ctx context.Context, db *store.DB) ([]byte, error) {
	if e.key != nil {
		return e.key, nil
	}
	key, err := wire.Key(ctx, e.cfg, db)
	if err != nil {
		return nil, err
	}
	e.key = key
	return key, nil
}

func (g *globalOptions) startProfile() error {
	if g.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(g.cpuProfile)
	if err != nil {
		return usageErr(fmt.Errorf("--cpuprofile: %w", err))
	}
	g.profile = f
	return pprof.StartCPUProfile(f)
}

func (g *globalOptions) stopProfile() {
	if g.profile != nil {
		pprof.StopCPUProfile()
		g.profile.Close()
	}
}
