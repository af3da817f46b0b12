package wire_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/internal/wire"
)

// TestTargets: a dry run builds every enabled uploader without a
// credential; a real run without one is a configuration error naming the
// key and the variable, never a value.
func TestTargets(t *testing.T) {
	cfg := config.Default()
	cfg.Uploaders.Meta.Enabled = true
	cfg.Uploaders.Google.Enabled = true
	targets, err := wire.Targets(cfg, "", true)
	if err != nil || len(targets) != 2 || !targets[0].DryRun {
		t.Fatalf("dry run: %d targets, %v", len(targets), err)
	}
	t.Setenv(cfg.Uploaders.Meta.AccessTokenEnv, "")
	_, err = wire.Targets(cfg, tally.PlatformMeta, false)
	if tally.KindOf(err) != tally.KindConfig || !strings.Contains(err.Error(), "uploaders.meta.access_token_env") {
		t.Errorf("missing credential: %v (kind %d)", err, tally.KindOf(err))
	}
	if _, err := wire.Targets(cfg, tally.PlatformTikTok, true); tally.KindOf(err) != tally.KindConfig {
		t.Errorf("--platform of a disabled uploader: %v", err)
	}
}

// TestKey: the key is recorded on first use and any other key is then a
// configuration error that names where it came from.
func TestKey(t *testing.T) {
	db := storetest.Open(t)
	cfg := config.Default()
	cfg.Store.Path = db.Path
	t.Setenv("TALLY_SECRET", "first-key-0123456789abcdef")
	if _, err := wire.Key(t.Context(), cfg, db); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TALLY_SECRET", "other-key-0123456789abcdef")
	_, err := wire.Key(t.Context(), cfg, db)
	if tally.KindOf(err) != tally.KindConfig || !strings.Contains(err.Error(), "not the key") || strings.Contains(err.Error(), "other-key") {
		t.Errorf("another key: %v", err)
	}
}

// TestRollerAndOptions: the pieces carry the configuration's values.
func TestRollerAndOptions(t *testing.T) {
	cfg := config.Default()
	cfg.Rollup.Timezone = "America/New_York"
	cfg.Privacy.SmallCounts = "suppress"
	r, err := wire.Roller(storetest.Open(t), cfg, time.Now, time.Now)
	if err != nil || r.Loc.String() != "America/New_York" || r.Gate.SmallCounts != tally.Suppress || r.Gate.MinCount != 11 {
		t.Fatalf("Roller: %+v, %v", r, err)
	}
	opt := wire.IntakeOptions(cfg, []byte("k"), r.Loc)
	if opt.MaxCellsPerDay != cfg.Intake.MaxCellsPerDay || opt.MaxCellsPerVisitorDay != 1 || opt.ConsentPurpose != "advertising" || !opt.HonorGPC {
		t.Errorf("IntakeOptions: %+v", opt)
	}
	cfg.Rollup.Timezone = "Mars/Olympus"
	if _, err := wire.Location(cfg); tally.KindOf(err) != tally.KindConfig {
		t.Errorf("bad timezone: %v", err)
	}
}
