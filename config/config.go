// Package config holds tally's configuration: the TOML schema, its defaults,
// strict decoding and validation. Every key is documented in
// config.example.toml at the repository root.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/tally-health/tally"
)

// Config is the whole configuration.
type Config struct {
	Store     Store                     `toml:"store"`
	Intake    Intake                    `toml:"intake"`
	Consent   Consent                   `toml:"consent"`
	Events    map[string]string         `toml:"events"`
	Sources   map[string]tally.Platform `toml:"sources"`
	Rollup    Rollup                    `toml:"rollup"`
	Privacy   Privacy                   `toml:"privacy"`
	Schedule  Schedule                  `toml:"schedule"`
	Backup    Backup                    `toml:"backup"`
	Report    Report                    `toml:"report"`
	Uploaders Uploaders                 `toml:"uploaders"`
	Log       Log                       `toml:"log"`
}

// Store configures the SQLite file and the hashing key.
type Store struct {
	Path          string `toml:"path"`
	KeyFile       string `toml:"key_file"`
	RetentionDays int    `toml:"retention_days"`
	Synchronous   string `toml:"synchronous"`
	// LedgerRetentionDays: request and response bodies in upload_requests
	// older than this are pruned (their hashes stay in the audit log).
	LedgerRetentionDays int `toml:"ledger_retention_days"`
	// ConsentRetentionDays: the consent history of a visitor whose latest
	// record is older than this is deleted, by a recorded purge.
	ConsentRetentionDays int `toml:"consent_retention_days"`
}

// Intake configures the HTTP collector and the event checks.
type Intake struct {
	Listen          string   `toml:"listen"`
	MaxBodyBytes    int64    `toml:"max_body_bytes"`
	MaxBatch        int      `toml:"max_batch"`
	AllowedOrigins  []string `toml:"allowed_origins"`
	CampaignPattern string   `toml:"campaign_pattern"`
	MaxEventAge     Duration `toml:"max_event_age"`
	// Campaigns, when not empty, is the exact list of campaign values
	// accepted; it replaces CampaignPattern.
	Campaigns []string `toml:"campaigns"`
	// MaxCellsPerDay bounds the cells one day can hold: an event that
	// would open a cell beyond it is dropped as cell_limit.
	MaxCellsPerDay int `toml:"max_cells_per_day"`
	// RatePerClient is the requests a second one client (an address, an
	// IPv6 /64) may send to /v1/events and /v1/consent; 0 turns the
	// limit off. BurstPerClient is how many it may send at once.
	RatePerClient  float64 `toml:"rate_per_client"`
	BurstPerClient int     `toml:"burst_per_client"`
}

// Consent configures the consent check.
type Consent struct {
	Purpose  string   `toml:"purpose"`
	MaxAge   Duration `toml:"max_age"`
	HonorGPC bool     `toml:"honor_gpc"`
	// RequireSensitive makes a grant need health_data consent as well
	// (Washington's My Health My Data Act; the GPP US sensitive-data
	// fields). TCFPurposes are the TCF v2 purposes a TC string must
	// consent to.
	RequireSensitive bool  `toml:"require_sensitive"`
	TCFPurposes      []int `toml:"tcf_purposes"`
	// Sources and Versions are the only consent labels stored; any other
	// label is dropped and the decision kept without it.
	Sources  []string `toml:"sources"`
	Versions []string `toml:"versions"`
}

// Rollup configures when a day is sealed.
type Rollup struct {
	Timezone   string   `toml:"timezone"`
	CloseAfter Duration `toml:"close_after"`
}

// Privacy configures the release gate.
type Privacy struct {
	MinCount    int    `toml:"min_count"`
	SmallCounts string `toml:"small_counts"`
	CarryDays   int    `toml:"carry_days"`
	Noise       string `toml:"noise"`
	// Epsilon is kept as the decimal it was written as: it becomes an
	// exact fraction (tally.ParseEpsilon), never a binary approximation.
	Epsilon Decimal `toml:"epsilon"`
	// MaxCellsPerVisitorDay bounds the cells one visitor counts in on one
	// day: their further conversions that day are dropped as over_bound.
	MaxCellsPerVisitorDay int `toml:"max_cells_per_visitor_day"`
}

// Schedule configures `tally schedule`.
type Schedule struct {
	Cron string `toml:"cron"`
}

// Backup configures the backup `tally run` takes after each successful run.
type Backup struct {
	// Dir is where backups go; "" takes none. A relative path is resolved
	// against the database's folder (see BackupDir).
	Dir string `toml:"dir"`
	// Keep is how many of the newest backups in Dir to keep.
	Keep int `toml:"keep"`
}

// BackupDir is backup.dir, a relative path resolved against the
// database's folder; "" when backups are off.
func (c *Config) BackupDir() string { return c.inDatabaseFolder(c.Backup.Dir) }

// inDatabaseFolder resolves a relative path against the database's folder
// (not the working directory, which differs between cron, systemd and a
// shell); "" and absolute paths are returned as they are.
func (c *Config) inDatabaseFolder(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.Store.Path), p)
}

// Report configures the campaign report the intake server can serve at
// GET /report.
type Report struct {
	Enabled bool `toml:"enabled"`
	// TokenEnv names the environment variable holding the token a reader
	// must present (bearer token or basic-auth password); TokenFile, when
	// set, a file holding it instead.
	TokenEnv  string `toml:"token_env"`
	TokenFile string `toml:"token_file"`
}

// ReportToken is where the report's token comes from.
func (r Report) ReportToken() SecretSource {
	return SecretSource{"report.token_env", r.TokenEnv, "report.token_file", r.TokenFile}
}

// Log configures logging.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// Delivery holds the keys every uploader section shares.
type Delivery struct {
	Enabled     bool    `toml:"enabled"`
	Endpoint    string  `toml:"endpoint"`
	DryRun      bool    `toml:"dry_run"`
	MaxAttempts int     `toml:"max_attempts"`
	Rate        float64 `toml:"rate"`
	// Timeout bounds one request to the platform, answer included; a
	// request that takes longer is a transient failure and is retried.
	Timeout Duration          `toml:"timeout"`
	Events  map[string]string `toml:"events"`
}

// Meta configures the Meta Conversions API uploader.
type Meta struct {
	Delivery
	APIVersion      string `toml:"api_version"`
	DatasetID       string `toml:"dataset_id"`
	AccessTokenEnv  string `toml:"access_token_env"`
	AccessTokenFile string `toml:"access_token_file"`
	ActionSource    string `toml:"action_source"`
	TestEventCode   string `toml:"test_event_code"`
	// LimitedDataUse sends Meta's Limited Data Use flag on every event.
	LimitedDataUse bool `toml:"limited_data_use"`
}

// Google configures the GA4 Measurement Protocol uploader.
type Google struct {
	Delivery
	MeasurementID string `toml:"measurement_id"`
	APISecretEnv  string `toml:"api_secret_env"`
	APISecretFile string `toml:"api_secret_file"`
	// Validate sends each request to the debug endpoint first and refuses
	// to send it for real when GA4 reports validation messages.
	Validate bool `toml:"validate"`
}

// TikTok configures the TikTok Events API uploader.
type TikTok struct {
	Delivery
	EventSource     string `toml:"event_source"`
	EventSourceID   string `toml:"event_source_id"`
	AccessTokenEnv  string `toml:"access_token_env"`
	AccessTokenFile string `toml:"access_token_file"`
	TestEventCode   string `toml:"test_event_code"`
}

// LinkedIn configures the LinkedIn Conversions API uploader.
type LinkedIn struct {
	Delivery
	Version         string            `toml:"version"`
	AccessTokenEnv  string            `toml:"access_token_env"`
	AccessTokenFile string            `toml:"access_token_file"`
	Rules           map[string]string `toml:"rules"`
}

// Uploaders holds one section per platform.
type Uploaders struct {
	Meta     Meta     `toml:"meta"`
	Google   Google   `toml:"google"`
	TikTok   TikTok   `toml:"tiktok"`
	LinkedIn LinkedIn `toml:"linkedin"`
}

// Delivery returns the shared delivery settings of platform p, or nil for
// a platform without an uploader.
func (u *Uploaders) Delivery(p tally.Platform) *Delivery {
	switch p {
	case tally.PlatformMeta:
		return &u.Meta.Delivery
	case tally.PlatformGoogle:
		return &u.Google.Delivery
	case tally.PlatformTikTok:
		return &u.TikTok.Delivery
	case tally.PlatformLinkedIn:
		return &u.LinkedIn.Delivery
	}
	return nil
}

// Default returns the built-in configuration, equal to config.example.toml.
func Default() *Config {
	return &Config{
		Store: Store{Path: "tally.db", KeyFile: "tally.key", RetentionDays: 35, Synchronous: "normal",
			LedgerRetentionDays: 400, ConsentRetentionDays: 400},
		Intake: Intake{
			Listen:          "127.0.0.1:8080",
			MaxBodyBytes:    1 << 20,
			MaxBatch:        500,
			AllowedOrigins:  []string{},
			CampaignPattern: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`,
			MaxEventAge:     Duration(168 * time.Hour),
			Campaigns:       []string{},
			MaxCellsPerDay:  1000,
			RatePerClient:   20,
			BurstPerClient:  100,
		},
		Consent: Consent{Purpose: "advertising", MaxAge: Duration(9480 * time.Hour), HonorGPC: true, TCFPurposes: []int{1, 7},
			Sources: []string{"tally.js", "import", "cmp"}, Versions: []string{}},
		Events: map[string]string{
			"appointment_booked":     "booking",
			"contact_form_submitted": "lead",
		},
		Sources: map[string]tally.Platform{
			"facebook":  tally.PlatformMeta,
			"instagram": tally.PlatformMeta,
			"google":    tally.PlatformGoogle,
			"tiktok":    tally.PlatformTikTok,
			"linkedin":  tally.PlatformLinkedIn,
		},
		Rollup:   Rollup{Timezone: "UTC", CloseAfter: Duration(3 * time.Hour)},
		Privacy:  Privacy{MinCount: 11, SmallCounts: "carry", CarryDays: 7, Noise: "none", Epsilon: "1", MaxCellsPerVisitorDay: 1},
		Schedule: Schedule{Cron: "30 3 * * *"},
		Backup:   Backup{Keep: 7},
		Report:   Report{TokenEnv: "TALLY_REPORT_TOKEN"},
		Uploaders: Uploaders{
			Meta: Meta{
				Delivery:       Delivery{Endpoint: "https://graph.facebook.com", MaxAttempts: 8, Rate: 10, Timeout: Duration(30 * time.Second), Events: map[string]string{"booking": "AppointmentRequest"}},
				APIVersion:     "v21.0",
				AccessTokenEnv: "TALLY_META_TOKEN",
				ActionSource:   "other",
			},
			Google: Google{
				Delivery:     Delivery{Endpoint: "https://www.google-analytics.com", MaxAttempts: 8, Rate: 10, Timeout: Duration(30 * time.Second), Events: map[string]string{}},
				APISecretEnv: "TALLY_GA4_API_SECRET",
			},
			TikTok: TikTok{
				Delivery:       Delivery{Endpoint: "https://business-api.tiktok.com", MaxAttempts: 8, Rate: 10, Timeout: Duration(30 * time.Second), Events: map[string]string{}},
				EventSource:    "offline",
				AccessTokenEnv: "TALLY_TIKTOK_TOKEN",
			},
			LinkedIn: LinkedIn{
				Delivery:       Delivery{Endpoint: "https://api.linkedin.com", MaxAttempts: 8, Rate: 5, Timeout: Duration(30 * time.Second), Events: map[string]string{}},
				Version:        "202411",
				AccessTokenEnv: "TALLY_LINKEDIN_TOKEN",
				Rules:          map[string]string{"booking": "12345678"},
			},
		},
		Log: Log{Level: "info", Format: "text"},
	}
}

// Parse decodes TOML from r on top of the defaults, strictly: an unknown key
// is an error naming it. The result is validated.
func Parse(r io.Reader) (*Config, error) {
	cfg := Default()
	// A section that appears in the file replaces the default map rather
	// than merging with it: an operator who writes [events] means exactly
	// those events.
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("config: read: %w", err)
	}
	var probe map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&probe); err != nil {
		return nil, fmt.Errorf("config: %w", tomlSyntaxError(err))
	}
	clearMapsPresent(cfg, probe)
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(cfg)
	if err != nil {
		return nil, fmt.Errorf("config: %w", tomlError(err))
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, fmt.Errorf("config: unknown key %q", undecoded[0].String())
	}
	// An *_env key has a default, so only the file tells whether the
	// operator wrote both it and its *_file sibling.
	for _, p := range tally.UploadPlatforms {
		src := cfg.Uploaders.Credential(p)
		if src.File != "" && md.IsDefined(strings.Split(src.EnvKey, ".")...) {
			return nil, bad(src.FileKey, "set only one of %s and %s", src.EnvKey, src.FileKey)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// clearMapsPresent empties each default map whose table the file defines.
func clearMapsPresent(cfg *Config, probe map[string]any) {
	if _, ok := probe["events"]; ok {
		cfg.Events = map[string]string{}
	}
	if _, ok := probe["sources"]; ok {
		cfg.Sources = map[string]tally.Platform{}
	}
	ups, _ := probe["uploaders"].(map[string]any)
	for _, p := range tally.UploadPlatforms {
		sec, _ := ups[string(p)].(map[string]any)
		if _, ok := sec["events"]; ok {
			cfg.Uploaders.Delivery(p).Events = map[string]string{}
		}
	}
	if li, _ := ups[string(tally.PlatformLinkedIn)].(map[string]any); li != nil {
		if _, ok := li["rules"]; ok {
			cfg.Uploaders.LinkedIn.Rules = map[string]string{}
		}
	}
}

// tomlError shortens BurntSushi's errors to one line with the position.
func tomlError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return errors.New(strings.ReplaceAll(pe.Error(), "\n", " "))
	}
	return err
}

// tomlSyntaxError is tomlError for a file that is not valid TOML, without
// the text the parser stumbled on: its messages quote it ("expected value
// but found \"EAAB...\""), and its last key can be the first part of a
// base64 token read as a key, when the file is a token pasted unquoted or
// an env file given as --config. The line is enough to find it. (Errors
// from a file that is valid TOML quote only what a key was set to, and
// name the key.)
func tomlSyntaxError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := tomlQuoted.ReplaceAllString(pe.Message, "(text not shown)")
		return fmt.Errorf("toml: line %d: %s", pe.Position.Line, strings.ReplaceAll(msg, "\n", " "))
	}
	return err
}

// tomlQuoted is a double-quoted string in a BurntSushi message.
var tomlQuoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// Load resolves the configuration file: path when not empty, else
// $TALLY_CONFIG, else ./tally.toml when it exists, else the defaults.
// It returns the config and the file it came from ("" for defaults).
func Load(path string) (*Config, string, error) {
	if path == "" {
		path = os.Getenv("TALLY_CONFIG")
	}
	if path == "" {
		if _, err := os.Stat("tally.toml"); err == nil {
			path = "tally.toml"
		}
	}
	if path == "" {
		cfg := Default()
		return cfg, "", cfg.Validate()
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("config: open: %w", err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		return nil, "", fmt.Errorf("%w (in %s)", err, path)
	}
	return cfg, path, nil
}

// Duration is a time.Duration written as a Go duration string ("168h").
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q (want e.g. \"3h\" or \"90m\")", string(b))
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Decimal is a TOML number kept as decimal text: a float is its shortest
// decimal form (0.1 stays "0.1"), an integer its digits.
type Decimal string

// UnmarshalTOML reads a TOML float or integer.
func (d *Decimal) UnmarshalTOML(v any) error {
	switch n := v.(type) {
	case float64:
		*d = Decimal(strconv.FormatFloat(n, 'g', -1, 64))
	case int64:
		*d = Decimal(strconv.FormatInt(n, 10))
	default:
		return fmt.Errorf("want a number, got %T", v)
	}
	return nil
}

// MarshalTOML writes the number as it was read.
func (d Decimal) MarshalTOML() ([]byte, error) { return []byte(d), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// GateParams are the release gate parameters [privacy] describes. The
// configuration must have passed Validate, which checks the names.
func (p Privacy) GateParams() tally.GateParams {
	small, _ := tally.ParseSmallCounts(p.SmallCounts)
	noise, _ := tally.ParseNoise(p.Noise)
	eps, _ := tally.ParseEpsilon(string(p.Epsilon))
	return tally.GateParams{MinCount: p.MinCount, SmallCounts: small, CarryDays: p.CarryDays,
		Noise: noise, Epsilon: eps}
}
