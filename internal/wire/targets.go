package wire

import (
	"fmt"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/uploaders/google"
	"github.com/tally-health/tally/uploaders/linkedin"
	"github.com/tally-health/tally/uploaders/meta"
	"github.com/tally-health/tally/uploaders/tiktok"
)

// Targets builds an uploader for every enabled platform (only
// platform when set). A real run needs each credential (its *_env
// variable or *_file file); the first missing one is an error naming it.
func Targets(cfg *config.Config, platform tally.Platform, dryRun bool) ([]batch.Target, error) {
	u := &cfg.Uploaders
	if platform != "" && !u.Delivery(platform).Enabled {
		return nil, configErr(fmt.Errorf("--platform %s: uploaders.%s.enabled is false", platform, platform))
	}
	var out []batch.Target
	for _, p := range tally.UploadPlatforms {
		d := u.Delivery(p)
		if !d.Enabled || (platform != "" && p != platform) {
			continue
		}
		dry := dryRun || d.DryRun
		var tok tally.Secret // a dry run never needs a credential
		if !dry {
			var err error
			if tok, err = u.Credential(p).Read(); err != nil {
				return nil, configErr(err)
			}
		}
		var up batch.Uploader
		switch p {
		case tally.PlatformMeta:
			up = meta.New(meta.Config{Endpoint: d.Endpoint, APIVersion: u.Meta.APIVersion, DatasetID: u.Meta.DatasetID,
				ActionSource: u.Meta.ActionSource, TestEventCode: u.Meta.TestEventCode, LimitedDataUse: u.Meta.LimitedDataUse,
				Events: d.Events, Token: tok, Timeout: d.Timeout.D()})
		case tally.PlatformGoogle:
			up = google.New(google.Config{Endpoint: d.Endpoint, MeasurementID: u.Google.MeasurementID, Events: d.Events,
				Validate: u.Google.Validate, Secret: tok, Timeout: d.Timeout.D()})
		case tally.PlatformTikTok:
			up = tiktok.New(tiktok.Config{Endpoint: d.Endpoint, EventSource: u.TikTok.EventSource, EventSourceID: u.TikTok.EventSourceID,
				TestEventCode: u.TikTok.TestEventCode, Events: d.Events, Token: tok, Timeout: d.Timeout.D()})
		case tally.PlatformLinkedIn:
			up = linkedin.New(linkedin.Config{Endpoint: d.Endpoint, Version: u.LinkedIn.Version, Rules: u.LinkedIn.Rules, Token: tok, Timeout: d.Timeout.D()})
		}
		out = append(out, batch.Target{Uploader: up, MaxAttempts: d.MaxAttempts, Rate: d.Rate, DryRun: dry})
	}
	return out, nil
}
