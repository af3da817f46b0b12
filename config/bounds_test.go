package config

import (
	"strings"
	"testing"
)

// TestConfigBounds checks that values valid in form but out of bounds are
// refused with an error naming the key and the value.
func TestConfigBounds(t *testing.T) {
	refuses(t, []badConfig{
		{"max_body_bytes over 64 MiB", "[intake]\nmax_body_bytes = 67108865\n", "intake.max_body_bytes: must be <= 67108864 (64 MiB), got 67108865"},
		{"max_batch over 10000", "[intake]\nmax_batch = 10001\n", "intake.max_batch: must be <= 10000, got 10001"},
		{"listen without port", "[intake]\nlisten = \"127.0.0.1\"\n", `intake.listen: want host:port with a port from 0 to 65535, got "127.0.0.1"`},
		{"listen port out of range", "[intake]\nlisten = \"127.0.0.1:70000\"\n", `intake.listen: want host:port with a port from 0 to 65535, got "127.0.0.1:70000"`},
		{"listen port not a number", "[intake]\nlisten = \"127.0.0.1:http\"\n", `intake.listen: want host:port with a port from 0 to 65535, got "127.0.0.1:http"`},
		{"listen garbage", "[intake]\nlisten = \"::1:8080\"\n", `intake.listen: want host:port`},
		{"infinite rate", "[uploaders.meta]\nrate = inf\n", "uploaders.meta.rate: must be finite, got +Inf"},
		{"nan rate", "[uploaders.google]\nrate = nan\n", "uploaders.google.rate: must be > 0, got NaN"},
		{"negative rate", "[uploaders.tiktok]\nrate = -1.0\n", "uploaders.tiktok.rate: must be > 0, got -1"},
		{"max_attempts over 20", "[uploaders.linkedin]\nmax_attempts = 21\n", "uploaders.linkedin.max_attempts: must be >= 1 and <= 20, got 21"},
		{"carry_days over 31", "[privacy]\ncarry_days = 32\n", "privacy.carry_days: must be <= 31, got 32"},
		{"close_after over 72h", "[rollup]\nclose_after = \"73h\"\n", "rollup.close_after: must be <= 72h0m0s, got 73h0m0s"},
		{"timezone Local", "[rollup]\ntimezone = \"Local\"\n", `rollup.timezone: must name an IANA zone, got "Local"`},
		{"plain http endpoint", "[uploaders.meta]\nendpoint = \"http://graph.facebook.com\"\n", `uploaders.meta.endpoint: must be https (http only to localhost, 127.0.0.0/8 or ::1), got "http://graph.facebook.com"`},
		{"http to a private address", "[uploaders.google]\nendpoint = \"http://10.0.0.7:8080\"\n", `uploaders.google.endpoint: must be https`},
		{"http to a look-alike host", "[uploaders.google]\nendpoint = \"http://localhost.example.org\"\n", `uploaders.google.endpoint: must be https`},
		{"endpoint with fragment", "[uploaders.tiktok]\nendpoint = \"https://business-api.tiktok.com/#x\"\n", `uploaders.tiktok.endpoint: must not hold a fragment, got "https://business-api.tiktok.com/#x"`},
		{"endpoint with empty fragment", "[uploaders.linkedin]\nendpoint = \"https://api.linkedin.com#\"\n", `uploaders.linkedin.endpoint: must not hold a fragment`},
		{"zero max_cells_per_day", "[intake]\nmax_cells_per_day = 0\n", "intake.max_cells_per_day: must be >= 1, got 0"},
		{"allowlisted campaign with an email", "[intake]\ncampaigns = [\"spring\", \"jane@example.org\"]\n", `intake.campaigns[1]: looks like an email address, got "jane@example.org"`},
		{"allowlisted campaign formula", "[intake]\ncampaigns = [\"=HYPERLINK(1)\"]\n", `intake.campaigns[0]: begins with = + - or @`},
		{"empty allowlisted campaign", "[intake]\ncampaigns = [\"\"]\n", `intake.campaigns[0]: must be 1 to 64 characters, got ""`},
		{"consent source with space", "[consent]\nsources = [\"tally.js\", \"Jane Doe\"]\n", `consent.sources[1]: want a short label`},
		{"consent version without letter", "[consent]\nversions = [\"00123456\"]\n", `consent.versions[0]: want a short label`},
	})
}

// TestConfigBoundsAllow checks the edges that stay valid: the bounds
// themselves, loopback endpoints over http, and listen addresses.
func TestConfigBoundsAllow(t *testing.T) {
	for _, s := range []string{
		"[intake]\nmax_body_bytes = 67108864\nmax_batch = 10000\n",
		"[intake]\nlisten = \":8080\"\n",
		"[intake]\nlisten = \"[::1]:0\"\n",
		"[intake]\nlisten = \"0.0.0.0:65535\"\n",
		"[uploaders.meta]\nendpoint = \"http://127.0.0.1:4000\"\nmax_attempts = 20\n",
		"[uploaders.meta]\nendpoint = \"http://127.3.2.1\"\n",
		"[uploaders.google]\nendpoint = \"http://localhost:9/x\"\n",
		"[uploaders.tiktok]\nendpoint = \"http://[::1]:8443\"\n",
		"[rollup]\nclose_after = \"72h\"\ntimezone = \"America/Santiago\"\n",
		"[privacy]\ncarry_days = 31\n",
		"[intake]\ncampaigns = [\"spring_24\", \"flu-shots\"]\n",
		"[consent]\nsources = [\"onetrust\"]\nversions = [\"policy-v3.2\"]\n",
	} {
		if _, err := Parse(strings.NewReader(s)); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

// TestAllowlistsReplaceDefaults checks that a list in the file replaces
// the default list rather than extending it.
func TestAllowlistsReplaceDefaults(t *testing.T) {
	cfg, err := Parse(strings.NewReader("[consent]\nsources = [\"onetrust\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Consent.Sources, ","); got != "onetrust" {
		t.Errorf("consent.sources = %q, want onetrust", got)
	}
}
