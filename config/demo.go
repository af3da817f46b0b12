package config

import (
	"path/filepath"

	"github.com/tally-health/tally"
)

// Demo is the built-in configuration of `tally demo`: the defaults with
// every uploader enabled in dry-run mode under placeholder ids, the key
// file beside the database (dbPath, or the default tally.db when empty)
// and the intake on a free local port.
func Demo(dbPath string) (*Config, error) {
	cfg := Default()
	if dbPath != "" {
		cfg.Store.Path = dbPath
	}
	cfg.Store.KeyFile = filepath.Join(filepath.Dir(cfg.Store.Path), "tally.key")
	cfg.Intake.Listen = "127.0.0.1:0"
	u := &cfg.Uploaders
	u.Meta.DatasetID, u.Google.MeasurementID, u.TikTok.EventSourceID = "DEMO_DATASET", "G-DEMO", "DEMO_EVENT_SOURCE"
	u.LinkedIn.Rules = map[string]string{"booking": "10000001", "lead": "10000002"}
	for _, p := range tally.UploadPlatforms {
		d := u.Delivery(p)
		d.Enabled, d.DryRun = true, true
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}
