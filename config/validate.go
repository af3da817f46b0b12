package config

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/tally-health/tally"
)

// FieldError names a configuration key and what is wrong with its value.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return fmt.Sprintf("config: %s: %s", e.Key, e.Msg) }

func bad(key, format string, args ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// notEmpty checks a key that must be set.
func notEmpty(key, v string) error {
	if v == "" {
		return bad(key, "must not be empty")
	}
	return nil
}

// atLeast checks an integer key against its floor.
func atLeast[N int | int64](key string, v, floor N) error {
	if v < floor {
		return bad(key, "must be >= %d, got %d", floor, v)
	}
	return nil
}

// CronParser is the cron spec parser used by `tally schedule`: five standard
// fields plus descriptors such as @daily.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var (
	genericName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	rawName     = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
	envName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	platformEvt = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_ ]{0,39}$`)
	ruleID      = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Validate checks every key and returns the first problem, naming the key
// and the bad value.
func (c *Config) Validate() error {
	checks := []func() error{c.validateStore, c.validateIntake, c.validateConsent, c.validateMaps,
		c.validateRollup, c.validatePrivacy, c.validateSchedule, c.validateBackup, c.validateReport, c.validateUploaders, c.validateLog}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateStore() error {
	s := c.Store
	if err := cmp.Or(notEmpty("store.path", s.Path), atLeast("store.retention_days", s.RetentionDays, 1)); err != nil {
		return err
	}
	if s.Synchronous != "normal" && s.Synchronous != "full" {
		return bad("store.synchronous", `must be "normal" or "full", got %q`, s.Synchronous)
	}
	return cmp.Or(atLeast("store.ledger_retention_days", s.LedgerRetentionDays, 1),
		atLeast("store.consent_retention_days", s.ConsentRetentionDays, 1))
}

func (c *Config) validateIntake() error {
	in := c.Intake
	if err := cmp.Or(notEmpty("intake.listen", in.Listen), atLeast("intake.max_body_bytes", in.MaxBodyBytes, 1024),
		atLeast("intake.max_batch", in.MaxBatch, 1)); err != nil {
		return err
	}
	for i, o := range in.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return bad(fmt.Sprintf("intake.allowed_origins[%d]", i), "must be an origin like https://www.example.org, got %q", o)
		}
	}
	if _, err := regexp.Compile(in.CampaignPattern); err != nil {
		return bad("intake.campaign_pattern", "bad regular expression %q: %v", in.CampaignPattern, err)
	}
	// Unanchored, a pattern matches inside any value ("[a-z]+" matches in
	// an email address), and the whole value would be stored and uploaded.
	if !strings.HasPrefix(in.CampaignPattern, "^") || !strings.HasSuffix(in.CampaignPattern, "$") {
		return bad("intake.campaign_pattern", "must be anchored with ^ and $ (the whole campaign must match), got %q", in.CampaignPattern)
	}
	if in.MaxEventAge.D() <= 0 {
		return bad("intake.max_event_age", "must be > 0, got %s", in.MaxEventAge.D())
	}
	if math.IsNaN(in.RatePerClient) || math.IsInf(in.RatePerClient, 0) || in.RatePerClient < 0 || in.RatePerClient > 1e6 {
		return bad("intake.rate_per_client", "must be between 0 (off) and 1000000 requests a second, got %v", in.RatePerClient)
	}
	if in.BurstPerClient < 1 || in.BurstPerClient > 1e6 {
		return bad("intake.burst_per_client", "must be between 1 and 1000000, got %d", in.BurstPerClient)
	}
	return c.validateIntakeBounds()
}

func (c *Config) validateConsent() error {
	if !genericName.MatchString(c.Consent.Purpose) {
		return bad("consent.purpose", "must be a lower-case name like \"advertising\", got %q", c.Consent.Purpose)
	}
	if c.Consent.MaxAge.D() <= 0 {
		return bad("consent.max_age", "must be > 0, got %s", c.Consent.MaxAge.D())
	}
	if c.Consent.RequireSensitive && c.Consent.Purpose == "health_data" {
		return bad("consent.purpose", "must not be \"health_data\" with consent.require_sensitive (that purpose is required besides it)")
	}
	if len(c.Consent.TCFPurposes) == 0 {
		return bad("consent.tcf_purposes", "must list at least one TCF purpose, got none")
	}
	for _, p := range c.Consent.TCFPurposes {
		if p < 1 || p > 24 {
			return bad("consent.tcf_purposes", "TCF purposes are 1 to 24, got %d", p)
		}
	}
	return c.validateConsentLabels()
}

func (c *Config) validateMaps() error {
	for _, raw := range sortedKeys(c.Events) {
		if !rawName.MatchString(raw) {
			return bad("events."+raw, "raw event name must match %s", rawName)
		}
		if g := c.Events[raw]; !genericName.MatchString(g) {
			return bad("events."+raw, "generic conversion name must match %s, got %q", genericName, g)
		}
	}
	for _, src := range sortedKeys(c.Sources) {
		if p := c.Sources[src]; !p.Valid() {
			return bad("sources."+src, "unknown platform %q (want meta, google, tiktok, linkedin or none)", p)
		}
	}
	return nil
}

func (c *Config) validateRollup() error {
	if _, err := time.LoadLocation(c.Rollup.Timezone); err != nil || c.Rollup.Timezone == "" {
		return bad("rollup.timezone", "unknown timezone %q", c.Rollup.Timezone)
	}
	if c.Rollup.Timezone == "Local" {
		// "Local" is whatever zone the machine running tally has: two
		// machines would seal different days.
		return bad("rollup.timezone", `must name an IANA zone, got "Local"`)
	}
	if c.Rollup.CloseAfter.D() < 0 {
		return bad("rollup.close_after", "must be >= 0, got %s", c.Rollup.CloseAfter.D())
	}
	if c.Rollup.CloseAfter.D() > maxCloseAfter {
		return bad("rollup.close_after", "must be <= %s, got %s", maxCloseAfter, c.Rollup.CloseAfter.D())
	}
	return nil
}

func (c *Config) validatePrivacy() error {
	p := c.Privacy
	if p.MinCount < 0 {
		return bad("privacy.min_count", "must be >= 0, got %d", p.MinCount)
	}
	if _, err := tally.ParseSmallCounts(p.SmallCounts); err != nil {
		return bad("privacy.small_counts", `must be "carry" or "suppress", got %q`, p.SmallCounts)
	}
	if p.CarryDays < 0 {
		return bad("privacy.carry_days", "must be >= 0, got %d", p.CarryDays)
	}
	if p.CarryDays > maxCarryDays {
		return bad("privacy.carry_days", "must be <= %d, got %d", maxCarryDays, p.CarryDays)
	}
	if _, err := tally.ParseNoise(p.Noise); err != nil {
		return bad("privacy.noise", `must be "none" or "geometric", got %q`, p.Noise)
	}
	if p.MaxCellsPerVisitorDay < 1 || p.MaxCellsPerVisitorDay > maxCellsPerVisitorDay {
		return bad("privacy.max_cells_per_visitor_day", "must be >= 1 and <= %d, got %d", maxCellsPerVisitorDay, p.MaxCellsPerVisitorDay)
	}
	if _, err := tally.ParseEpsilon(string(p.Epsilon)); err != nil {
		return bad("privacy.epsilon", "must be > 0 and <= %d with at most %d decimal places, got %s",
			tally.MaxEpsilon, tally.EpsilonPlaces, p.Epsilon)
	}
	return nil
}

func (c *Config) validateSchedule() error {
	if _, err := CronParser.Parse(c.Schedule.Cron); err != nil {
		return bad("schedule.cron", "bad cron spec %q: %v", c.Schedule.Cron, err)
	}
	return nil
}

// maxBackups bounds backup.keep: each backup is a whole copy of the file.
const maxBackups = 1000

func (c *Config) validateBackup() error {
	// keep = 0 would remove the backup just taken: to take none, leave dir
	// empty.
	if k := c.Backup.Keep; k < 1 || k > maxBackups {
		return bad("backup.keep", "must be >= 1 and <= %d, got %d (to take no backups, leave backup.dir empty)", maxBackups, k)
	}
	return nil
}

func (c *Config) validateUploaders() error {
	u := &c.Uploaders
	for _, p := range tally.UploadPlatforms {
		d := u.Delivery(p)
		key := "uploaders." + string(p)
		if err := checkEndpoint(key+".endpoint", d.Endpoint); err != nil {
			return err
		}
		if d.MaxAttempts < 1 || d.MaxAttempts > maxAttempts {
			return bad(key+".max_attempts", "must be >= 1 and <= %d, got %d", maxAttempts, d.MaxAttempts)
		}
		if !(d.Rate > 0) {
			return bad(key+".rate", "must be > 0, got %g", d.Rate)
		}
		if math.IsInf(d.Rate, 0) {
			return bad(key+".rate", "must be finite, got %g", d.Rate)
		}
		if d.Timeout <= 0 {
			return bad(key+".timeout", "must be > 0, got %q", d.Timeout.D().String())
		}
		for _, g := range sortedKeys(d.Events) {
			if !platformEvt.MatchString(d.Events[g]) {
				return bad(key+".events."+g, "platform event name must match %s, got %q", platformEvt, d.Events[g])
			}
		}
	}
	for _, p := range tally.UploadPlatforms {
		src := u.Credential(p)
		if !envName.MatchString(src.Env) {
			return bad(src.EnvKey, "must name an environment variable, got %q", src.Env)
		}
		if strings.ContainsRune(src.File, 0) {
			return bad(src.FileKey, "must be a file path, got %q", src.File)
		}
	}
	switch u.Meta.ActionSource {
	case "email", "app", "phone_call", "chat", "physical_store", "system_generated", "business_messaging", "other":
	case "website":
		return bad("uploaders.meta.action_source", `"website" requires a page URL and user agent, which tally never sends`)
	default:
		return bad("uploaders.meta.action_source", "unknown action source %q", u.Meta.ActionSource)
	}
	switch u.TikTok.EventSource {
	case "offline", "web", "crm", "app":
	default:
		return bad("uploaders.tiktok.event_source", "must be offline, web, crm or app, got %q", u.TikTok.EventSource)
	}
	for _, g := range sortedKeys(u.LinkedIn.Rules) {
		if !ruleID.MatchString(u.LinkedIn.Rules[g]) {
			return bad("uploaders.linkedin.rules."+g, "must be a numeric conversion rule id, got %q", u.LinkedIn.Rules[g])
		}
	}
	if err := c.validateEnabled(); err != nil {
		return err
	}
	return nil
}

// validateEnabled checks the ids an enabled uploader cannot work without.
func (c *Config) validateEnabled() error {
	u := &c.Uploaders
	if u.Meta.Enabled && u.Meta.DatasetID == "" {
		return bad("uploaders.meta.dataset_id", "must be set when the uploader is enabled")
	}
	if u.Google.Enabled && u.Google.MeasurementID == "" {
		return bad("uploaders.google.measurement_id", "must be set when the uploader is enabled")
	}
	if u.TikTok.Enabled && u.TikTok.EventSourceID == "" {
		return bad("uploaders.tiktok.event_source_id", "must be set when the uploader is enabled")
	}
	if u.LinkedIn.Enabled {
		for _, g := range sortedValues(c.Events) {
			if _, ok := u.LinkedIn.Rules[g]; !ok {
				return bad("uploaders.linkedin.rules", "no conversion rule for conversion %q", g)
			}
		}
	}
	return nil
}

func (c *Config) validateReport() error {
	if !envName.MatchString(c.Report.TokenEnv) {
		return bad("report.token_env", "must name an environment variable, got %q", c.Report.TokenEnv)
	}
	return nil
}

func (c *Config) validateLog() error {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return bad("log.format", `must be "text" or "json", got %q`, c.Log.Format)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func sortedValues(m map[string]string) []string {
	seen := map[string]bool{}
	var vals []string
	for _, v := range m {
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	sort.Strings(vals)
	return vals
}
