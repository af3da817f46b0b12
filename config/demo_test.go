package config_test

import (
	"path/filepath"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/config"
)

// The demo's configuration sends nothing: every uploader is a dry run, and
// its key file lies beside its database.
func TestDemoIsADryRunBesideTheDatabase(t *testing.T) {
	for _, db := range []string{"", filepath.Join("some", "dir", "demo.db")} {
		cfg, err := config.Demo(db)
		if err != nil {
			t.Fatal(err)
		}
		if db != "" && cfg.Store.Path != db {
			t.Errorf("store.path %q, want %q", cfg.Store.Path, db)
		}
		if want := filepath.Join(filepath.Dir(cfg.Store.Path), "tally.key"); cfg.Store.KeyFile != want {
			t.Errorf("store.key_file %q, want %q", cfg.Store.KeyFile, want)
		}
		for _, p := range tally.UploadPlatforms {
			if d := cfg.Uploaders.Delivery(p); !d.Enabled || !d.DryRun {
				t.Errorf("%s: enabled %v, dry_run %v", p, d.Enabled, d.DryRun)
			}
		}
	}
}
