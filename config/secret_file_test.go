package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretValue is in every secret file these tests write: no error may
// show it.
const secretValue = "s3cr3t-token-VALUE"

func writeSecret(t *testing.T, path, body string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestSecretFileTrimsTrailingLineBreaksOnly(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{secretValue, secretValue},
		{secretValue + "\n", secretValue},
		{secretValue + "\r\n", secretValue},
		{secretValue + "\n\n", secretValue},
		{" " + secretValue + " \n", " " + secretValue + " "},
	} {
		t.Setenv("META_TOKEN_FOR_TEST", "")
		path := writeSecret(t, filepath.Join(dir, "token"), tc.body, 0o600)
		got, err := SecretSource{"uploaders.meta.access_token_env", "META_TOKEN_FOR_TEST", "uploaders.meta.access_token_file", path}.Read()
		if err != nil || got.Reveal() != tc.want {
			t.Errorf("file %q: read %q, %v; want %q", tc.body, got.Reveal(), err, tc.want)
		}
	}
}

func TestSecretFileRefusals(t *testing.T) {
	dir := t.TempDir()
	good := writeSecret(t, filepath.Join(dir, "good"), secretValue+"\n", 0o600)
	src := func(file string) SecretSource {
		return SecretSource{"uploaders.tiktok.access_token_env", "TIKTOK_TOKEN_FOR_TEST", "uploaders.tiktok.access_token_file", file}
	}
	unreadable := writeSecret(t, filepath.Join(dir, "unreadable"), secretValue, 0o000)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join(dir, "gone"), link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, env, want string
	}{
		{"the variable is set too", good, secretValue + "-env", "is set and so is environment variable TIKTOK_TOKEN_FOR_TEST (named by uploaders.tiktok.access_token_env): unset one"},
		{"missing", filepath.Join(dir, "missing"), "", "no such file"},
		{"a dangling link", link, "", "no such file"},
		{"a directory", dir, "", "is a directory"},
		{"empty", writeSecret(t, filepath.Join(dir, "empty"), "", 0o600), "", "is empty"},
		{"only a line break", writeSecret(t, filepath.Join(dir, "newline"), "\n", 0o600), "", "is empty"},
		{"too large", writeSecret(t, filepath.Join(dir, "large"), strings.Repeat(secretValue, 5000), 0o600), "", "more than a secret"},
		{"relative without $CREDENTIALS_DIRECTORY", "tiktok-token", "", "is a relative path and $CREDENTIALS_DIRECTORY is not set"},
		{"unreadable", unreadable, "", "permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "unreadable" && os.Geteuid() == 0 {
				t.Skip("root reads any file")
			}
			t.Setenv("TIKTOK_TOKEN_FOR_TEST", tc.env)
			t.Setenv("CREDENTIALS_DIRECTORY", "")
			_, err := src(tc.file).Read()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "uploaders.tiktok.access_token_file") {
				t.Errorf("error %q does not name the key", err)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error shows the secret: %q", err)
			}
		})
	}
}

// A relative *_file is read from systemd's $CREDENTIALS_DIRECTORY.
func TestSecretFileInCredentialsDirectory(t *testing.T) {
	dir := t.TempDir()
	writeSecret(t, filepath.Join(dir, "ga4-secret"), secretValue+"\n", 0o400)
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	t.Setenv("GA4_FOR_TEST", "")
	got, err := SecretSource{"uploaders.google.api_secret_env", "GA4_FOR_TEST", "uploaders.google.api_secret_file", "ga4-secret"}.Read()
	if err != nil || got.Reveal() != secretValue {
		t.Errorf("read %q, %v", got.Reveal(), err)
	}
}

func TestSecretFileKeysInConfig(t *testing.T) {
	cfg, err := Parse(strings.NewReader("[uploaders.linkedin]\naccess_token_file = \"/run/secrets/linkedin\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if src := cfg.Uploaders.Credential("linkedin"); src.File != "/run/secrets/linkedin" || src.Env != "TALLY_LINKEDIN_TOKEN" {
		t.Errorf("credential = %+v", src)
	}
	refuses(t, []badConfig{
		{"both keys", "[uploaders.meta]\naccess_token_env = \"X\"\naccess_token_file = \"/run/secrets/meta\"\n",
			"uploaders.meta.access_token_file: set only one of uploaders.meta.access_token_env and uploaders.meta.access_token_file"},
		{"both keys, google", "[uploaders.google]\napi_secret_file = \"/s\"\napi_secret_env = \"TALLY_GA4_API_SECRET\"\n",
			"set only one of uploaders.google.api_secret_env and uploaders.google.api_secret_file"},
		{"a NUL in the path", "[uploaders.tiktok]\naccess_token_file = \"/s\\u0000x\"\n", "uploaders.tiktok.access_token_file: must be a file path"},
	})
}

func TestHashKeyFromSecretFile(t *testing.T) {
	dir := t.TempDir()
	cfg := Default()
	cfg.Store.KeyFile = filepath.Join(dir, "tally.key")
	key := "0123456789abcdef-" + secretValue
	t.Setenv("TALLY_SECRET", "")
	t.Setenv("TALLY_SECRET_FILE", writeSecret(t, filepath.Join(dir, "secret"), key+"\n", 0o600))
	got, err := cfg.LoadHashKey(true)
	if err != nil || string(got) != key {
		t.Fatalf("key %q, %v; want the file's, without its line break", got, err)
	}
	if src := cfg.KeySource(); !strings.HasPrefix(src, "$TALLY_SECRET_FILE ") {
		t.Errorf("KeySource() = %q", src)
	}

	t.Setenv("TALLY_SECRET", key)
	if _, err := cfg.LoadHashKey(true); err == nil || !strings.Contains(err.Error(), "TALLY_SECRET and TALLY_SECRET_FILE are both set") || strings.Contains(err.Error(), secretValue) {
		t.Errorf("both set: %v", err)
	}
	t.Setenv("TALLY_SECRET", "")

	t.Setenv("TALLY_SECRET_FILE", writeSecret(t, filepath.Join(dir, "short"), "short\n", 0o600))
	if _, err := cfg.LoadHashKey(true); err == nil || !strings.Contains(err.Error(), "fewer than 16 bytes") {
		t.Errorf("short key: %v", err)
	}
	// A missing secret file is an error, never a reason to create a key.
	t.Setenv("TALLY_SECRET_FILE", filepath.Join(dir, "missing"))
	if _, err := cfg.LoadHashKey(true); err == nil || !strings.Contains(err.Error(), "$TALLY_SECRET_FILE") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Stat(cfg.Store.KeyFile); !os.IsNotExist(err) {
		t.Errorf("key file created: %v", err)
	}
}

func TestOthersCanReadNamesLooseSecretFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := Default()
	cfg.Uploaders.Meta.Enabled = true
	cfg.Uploaders.Meta.AccessTokenFile = writeSecret(t, filepath.Join(dir, "meta"), secretValue, 0o644)
	cfg.Uploaders.TikTok.Enabled = true
	cfg.Uploaders.TikTok.AccessTokenFile = writeSecret(t, filepath.Join(dir, "tiktok"), secretValue, 0o640)
	// Disabled: its file is never read, so never judged.
	cfg.Uploaders.LinkedIn.AccessTokenFile = writeSecret(t, filepath.Join(dir, "linkedin"), secretValue, 0o644)
	t.Setenv("TALLY_SECRET_FILE", writeSecret(t, filepath.Join(dir, "key"), secretValue, 0o604))
	got := strings.Join(cfg.OthersCanRead(), " ")
	if want := filepath.Join(dir, "key") + " " + filepath.Join(dir, "meta"); got != want {
		t.Errorf("OthersCanRead() = %q, want %q", got, want)
	}
}
