package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tally-health/tally"
)

func parseFile(t *testing.T, path string) *Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return cfg
}

func TestExampleEqualsDefault(t *testing.T) {
	got := parseFile(t, "../config.example.toml")
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("config.example.toml differs from Default():\n got %+v\nwant %+v", got, want)
	}
}

func TestReferenceConfigParses(t *testing.T) {
	cfg := parseFile(t, "testdata/reference.toml")
	if cfg.Uploaders.LinkedIn.Rules["booking"] != "12345678" || cfg.Uploaders.Meta.Events["booking"] != "AppointmentRequest" {
		t.Errorf("uploader maps not decoded: %+v", cfg.Uploaders)
	}
}

func TestExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		if !strings.Contains(line, "#") && !strings.HasPrefix(line, "booking") &&
			!strings.HasPrefix(line, "appointment_booked") && !strings.HasPrefix(line, "contact_form") &&
			!strings.Contains(line, `= "meta"`) && !strings.Contains(line, `= "google"`) &&
			!strings.Contains(line, `= "tiktok"`) && !strings.Contains(line, `= "linkedin"`) {
			t.Errorf("config.example.toml line %d has no comment: %s", i+1, line)
		}
	}
}

func TestSectionReplacesDefaultMap(t *testing.T) {
	cfg, err := Parse(strings.NewReader("[events]\nform_sent = \"lead\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"form_sent": "lead"}; !reflect.DeepEqual(cfg.Events, want) {
		t.Errorf("events = %v, want %v", cfg.Events, want)
	}
	if cfg.Sources["facebook"] != "meta" {
		t.Errorf("sources default lost: %v", cfg.Sources)
	}
}

func TestParseErrors(t *testing.T) {
	refuses(t, []badConfig{
		{"unknown key", "[store]\npth = \"x\"\n", `unknown key "store.pth"`},
		{"unknown section", "[stor]\npath = \"x\"\n", `unknown key "stor`},
		{"unknown uploader key", "[uploaders.meta]\ntoken = \"x\"\n", `unknown key "uploaders.meta.token"`},
		{"negative min_count", "[privacy]\nmin_count = -3\n", "config: privacy.min_count: must be >= 0, got -3"},
		{"bad regexp", "[intake]\ncampaign_pattern = '^[a-'\n", "intake.campaign_pattern: bad regular expression"},
		{"unanchored campaign pattern", "[intake]\ncampaign_pattern = '[a-z]+'\n", "intake.campaign_pattern: must be anchored"},
		{"bad duration", "[intake]\nmax_event_age = \"7 days\"\n", `bad duration "7 days"`},
		{"zero duration", "[consent]\nmax_age = \"0s\"\n", "consent.max_age: must be > 0"},
		{"unknown platform", "[sources]\nbing = \"microsoft\"\n", `sources.bing: unknown platform "microsoft"`},
		{"unknown timezone", "[rollup]\ntimezone = \"Mars/Olympus\"\n", `rollup.timezone: unknown timezone "Mars/Olympus"`},
		{"negative close_after", "[rollup]\nclose_after = \"-1h\"\n", "rollup.close_after: must be >= 0"},
		{"bad cron", "[schedule]\ncron = \"61 * * * *\"\n", `schedule.cron: bad cron spec "61 * * * *"`},
		{"keep no backups", "[backup]\ndir = \"b\"\nkeep = 0\n", "backup.keep: must be >= 1 and <= 1000, got 0 (to take no backups, leave backup.dir empty)"},
		{"keep too many backups", "[backup]\nkeep = 1001\n", "backup.keep: must be >= 1 and <= 1000, got 1001"},
		{"bad small_counts", "[privacy]\nsmall_counts = \"drop\"\n", `privacy.small_counts: must be "carry" or "suppress", got "drop"`},
		{"bad noise", "[privacy]\nnoise = \"laplace\"\n", `privacy.noise`},
		{"bad epsilon", "[privacy]\nepsilon = 0.0\n", "privacy.epsilon: must be > 0"},
		{"negative epsilon", "[privacy]\nepsilon = -1\n", "privacy.epsilon: must be > 0 and <= 100 with at most 6 decimal places, got -1"},
		{"epsilon too fine", "[privacy]\nepsilon = 0.1000000001\n", "privacy.epsilon: must be > 0 and <= 100 with at most 6 decimal places, got 0.1000000001"},
		{"epsilon 1e-9", "[privacy]\nepsilon = 1e-9\n", "privacy.epsilon: must be > 0 and <= 100 with at most 6 decimal places, got 1e-09"},
		{"epsilon too large", "[privacy]\nepsilon = 101\n", "privacy.epsilon: must be > 0 and <= 100"},
		{"epsilon as text", "[privacy]\nepsilon = \"abc\"\n", `privacy.epsilon"): want a number, got string`},
		{"epsilon nan", "[privacy]\nepsilon = nan\n", "privacy.epsilon: must be > 0"},
		{"epsilon inf", "[privacy]\nepsilon = inf\n", "privacy.epsilon: must be > 0"},
		{"negative carry_days", "[privacy]\ncarry_days = -1\n", "privacy.carry_days: must be >= 0, got -1"},
		{"empty path", "[store]\npath = \"\"\n", "store.path: must not be empty"},
		{"no visitor bound", "[privacy]\nmax_cells_per_visitor_day = 0\n", "privacy.max_cells_per_visitor_day: must be >= 1 and <= 100, got 0"},
		{"visitor bound too high", "[privacy]\nmax_cells_per_visitor_day = 101\n", "privacy.max_cells_per_visitor_day: must be >= 1 and <= 100, got 101"},
		{"bad retention", "[store]\nretention_days = 0\n", "store.retention_days: must be >= 1, got 0"},
		{"bad synchronous", "[store]\nsynchronous = \"off\"\n", `store.synchronous: must be "normal" or "full", got "off"`},
		{"bad ledger retention", "[store]\nledger_retention_days = 0\n", "store.ledger_retention_days: must be >= 1, got 0"},
		{"bad consent retention", "[store]\nconsent_retention_days = -5\n", "store.consent_retention_days: must be >= 1, got -5"},
		{"empty listen", "[intake]\nlisten = \"\"\n", "intake.listen: must not be empty"},
		{"small max_body_bytes", "[intake]\nmax_body_bytes = 1023\n", "intake.max_body_bytes: must be >= 1024, got 1023"},
		{"bad max_batch", "[intake]\nmax_batch = 0\n", "intake.max_batch: must be >= 1, got 0"},
		{"bad origin", "[intake]\nallowed_origins = [\"example.org\"]\n", "intake.allowed_origins[0]"},
		{"bad generic name", "[events]\nx = \"Has Space\"\n", "events.x: generic conversion name"},
		{"bad endpoint", "[uploaders.meta]\nendpoint = \"ftp://x\"\n", "uploaders.meta.endpoint: must be an http(s) URL"},
		{"endpoint with query", "[uploaders.meta]\nendpoint = \"https://x/?access_token=abc\"\n", "uploaders.meta.endpoint: must not hold credentials"},
		{"bad rate", "[uploaders.tiktok]\nrate = 0.0\n", "uploaders.tiktok.rate: must be > 0"},
		{"bad max_attempts", "[uploaders.google]\nmax_attempts = 0\n", "uploaders.google.max_attempts: must be >= 1"},
		{"zero timeout", "[uploaders.linkedin]\ntimeout = \"0s\"\n", `uploaders.linkedin.timeout: must be > 0, got "0s"`},
		{"bad timeout", "[uploaders.meta]\ntimeout = \"soon\"\n", "timeout"},
		{"website action source", "[uploaders.meta]\naction_source = \"website\"\n", "uploaders.meta.action_source"},
		{"bad env name", "[uploaders.meta]\naccess_token_env = \"my token\"\n", "uploaders.meta.access_token_env: must name an environment variable"},
		{"bad report token env", "[report]\ntoken_env = \"a-b\"\n", "report.token_env: must name an environment variable"},
		{"enabled without dataset", "[uploaders.meta]\nenabled = true\n", "uploaders.meta.dataset_id: must be set"},
		{"linkedin missing rule", "[uploaders.linkedin]\nenabled = true\n", `uploaders.linkedin.rules: no conversion rule for conversion "lead"`},
		{"bad rule id", "[uploaders.linkedin.rules]\nbooking = \"urn:x\"\n", "uploaders.linkedin.rules.booking: must be a numeric"},
		{"bad log level", "[log]\nlevel = \"loud\"\n", `log.level: must be debug, info, warn or error, got "loud"`},
		{"syntax error", "[store\n", "config: toml:"},
		{"wrong type", "[privacy]\nmin_count = \"eleven\"\n", "min_count"},
	})
}

// badConfig is a file Parse must refuse with an error containing want.
type badConfig struct{ name, toml, want string }

// refuses checks that Parse refuses each file with a one-line error
// containing its want.
func refuses(t *testing.T, tests []badConfig) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.toml))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestHashKeyCreatesFile0600(t *testing.T) {
	t.Setenv("TALLY_SECRET", "")
	cfg := Default()
	cfg.Store.KeyFile = filepath.Join(t.TempDir(), "tally.key")
	k1, err := cfg.LoadHashKey(true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(cfg.Store.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	k2, err := cfg.LoadHashKey(false)
	if err != nil {
		t.Fatal(err)
	}
	if string(k1) != string(k2) || len(k1) < 32 {
		t.Errorf("key not stable across loads")
	}
	t.Setenv("TALLY_SECRET", "0123456789abcdef-env")
	k3, err := cfg.LoadHashKey(true)
	if err != nil || string(k3) != "0123456789abcdef-env" {
		t.Errorf("TALLY_SECRET not preferred: %q, %v", k3, err)
	}
	t.Setenv("TALLY_SECRET", "short")
	if _, err := cfg.LoadHashKey(true); err == nil {
		t.Error("short TALLY_SECRET accepted")
	}
}

func TestSecretRedacts(t *testing.T) {
	s := tally.NewSecret("tok-123")
	for _, out := range []string{s.String(), fmtAll(s)} {
		if strings.Contains(out, "tok-123") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != "tok-123" {
		t.Error("Reveal lost the value")
	}
	t.Setenv("X_TOKEN", "")
	if _, err := (SecretSource{EnvKey: "uploaders.meta.access_token_env", Env: "X_TOKEN"}).Read(); err == nil || !strings.Contains(err.Error(), "X_TOKEN") {
		t.Errorf("missing env error = %v", err)
	}
}

// FuzzParse checks that no input panics the parser and that an accepted
// configuration always validates.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../config.example.toml", "testdata/reference.toml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("[privacy]\nmin_count = -3\n")
	f.Add("[uploaders.meta.events]\nbooking = 3\n")
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := Parse(strings.NewReader(s))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that does not validate: %v", err)
		}
	})
}

// TestPathsResolveAgainstDatabaseFolder: store.key_file and backup.dir,
// when relative, are in the database's folder; absolute ones stay as they
// are, and an empty backup.dir (no backups) stays empty.
func TestPathsResolveAgainstDatabaseFolder(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "x")
	tests := []struct {
		name  string
		set   func(c *Config, v string)
		get   func(c *Config) string
		value string
		want  string
	}{
		{"relative key_file", func(c *Config, v string) { c.Store.KeyFile = v }, (*Config).KeyPath, "tally.key", filepath.Join("/var", "lib", "tally", "tally.key")},
		{"absolute key_file", func(c *Config, v string) { c.Store.KeyFile = v }, (*Config).KeyPath, abs, abs},
		{"relative backup.dir", func(c *Config, v string) { c.Backup.Dir = v }, (*Config).BackupDir, "backups", filepath.Join("/var", "lib", "tally", "backups")},
		{"absolute backup.dir", func(c *Config, v string) { c.Backup.Dir = v }, (*Config).BackupDir, abs, abs},
		{"no backup.dir", func(c *Config, v string) { c.Backup.Dir = v }, (*Config).BackupDir, "", ""},
	}
	for _, tt := range tests {
		cfg := Default()
		cfg.Store.Path = filepath.Join("/var", "lib", "tally", "tally.db")
		tt.set(cfg, tt.value)
		if got := tt.get(cfg); got != tt.want {
			t.Errorf("%s %q: got %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestLoadHashKeyWithoutCreateNeverWritesAKey(t *testing.T) {
	t.Setenv("TALLY_SECRET", "")
	cfg := Default()
	cfg.Store.Path = filepath.Join(t.TempDir(), "tally.db")
	_, err := cfg.LoadHashKey(false)
	if !errors.Is(err, ErrNoKeyFile) || !strings.Contains(err.Error(), cfg.KeyPath()) {
		t.Fatalf("err = %v, want ErrNoKeyFile naming %s", err, cfg.KeyPath())
	}
	if _, err := os.Stat(cfg.KeyPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file created: %v", err)
	}
}

// TestEpsilonIsExact: privacy.epsilon becomes the fraction its decimal
// text says, whether written as a float or an integer.
func TestEpsilonIsExact(t *testing.T) {
	for in, want := range map[string]tally.Epsilon{
		"0.1": {Num: 1, Den: 10}, "0.5": {Num: 1, Den: 2}, "2": {Num: 2, Den: 1}, "1.0": {Num: 1, Den: 1},
		"0.000001": {Num: 1, Den: 1_000_000}, "1e-3": {Num: 1, Den: 1000}, "100": {Num: 100, Den: 1}, "0.123456": {Num: 1929, Den: 15625},
	} {
		cfg, err := Parse(strings.NewReader("[privacy]\nepsilon = " + in + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := cfg.Privacy.GateParams().Epsilon; got != want {
			t.Errorf("epsilon = %s: got %d/%d, want %d/%d", in, got.Num, got.Den, want.Num, want.Den)
		}
	}
	if got := Default().Privacy.GateParams().Epsilon; got != (tally.Epsilon{Num: 1, Den: 1}) {
		t.Errorf("default epsilon %d/%d, want 1", got.Num, got.Den)
	}
}
