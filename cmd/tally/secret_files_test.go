package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsFromFiles runs uploads and runs with every secret in a file:
// the tokens (two by a relative name in $CREDENTIALS_DIRECTORY, as systemd
// passes credentials, two by absolute path, as Kubernetes mounts them) and
// the hashing key ($TALLY_SECRET_FILE). It then sets each secret twice, or
// points at the wrong file, and checks the exit code, the message, and
// that no output shows a secret.
func TestSecretsFromFiles(t *testing.T) {
	f := newFakePlatforms(t)
	cfgPath, _ := uploadFixture(t, f.URL, allPlatforms(20)...)
	creds := t.TempDir()
	secretFile := func(name, value string, mode os.FileMode) string {
		p := filepath.Join(creds, name)
		write(t, p, value+"\n") // the line break echo leaves, trimmed on reading
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secretFile("meta-token", fakeSecrets["TALLY_META_TOKEN"], 0o400)
	ga4 := secretFile("ga4-secret", fakeSecrets["TALLY_GA4_API_SECRET"], 0o600)
	// Readable by every user: used, with a warning.
	tiktok := secretFile("tiktok-token", fakeSecrets["TALLY_TIKTOK_TOKEN"], 0o644)
	secretFile("linkedin-token", fakeSecrets["TALLY_LINKEDIN_TOKEN"], 0o400)
	const key = "0123456789abcdef0123456789abcdef-key"
	keyFile := secretFile("tally-secret", key, 0o400)

	base, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(base)
	for section, line := range map[string]string{
		"meta":     `access_token_file = "meta-token"`,
		"google":   `api_secret_file = "` + ga4 + `"`,
		"tiktok":   `access_token_file = "` + tiktok + `"`,
		"linkedin": `access_token_file = "linkedin-token"`,
	} {
		header := "[uploaders." + section + "]\n"
		if !strings.Contains(text, header) {
			t.Fatalf("config lacks %s", header)
		}
		text = strings.Replace(text, header, header+line+"\n", 1)
	}
	write(t, cfgPath, text)

	for name := range fakeSecrets {
		t.Setenv(name, "")
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	t.Setenv("TALLY_SECRET", "")
	t.Setenv("TALLY_SECRET_FILE", keyFile)

	var output strings.Builder
	run := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		code, stdout, stderr := runTally(t, append([]string{"--config", cfgPath, "--now", uploadNow}, args...)...)
		output.WriteString(stdout + stderr)
		if code != wantCode || !strings.Contains(stderr, wantErr) {
			t.Fatalf("%v: exit %d, want %d and %q\n%s%s", args, code, wantCode, wantErr, stdout, stderr)
		}
	}
	// Only the world-readable file is named.
	run(0, "secret file readable by other users", "run")
	if strings.Count(output.String(), "secret file readable by other users") != 1 || !strings.Contains(output.String(), tiktok) {
		t.Errorf("want one warning, naming %s:\n%s", tiktok, output.String())
	}
	for _, p := range []string{"meta", "google", "tiktok", "linkedin"} {
		if ids, _ := f.distinct(p); ids != 31 {
			t.Errorf("%s: %d delivered, want 31 (the fake checks credentials)", p, ids)
		}
	}

	// The same key from the environment: the trimmed file held exactly it.
	t.Setenv("TALLY_SECRET_FILE", "")
	t.Setenv("TALLY_SECRET", key)
	run(0, "", "run")
	// Both sources of the key, then another key in a file.
	t.Setenv("TALLY_SECRET_FILE", keyFile)
	run(2, "TALLY_SECRET and TALLY_SECRET_FILE are both set", "run")
	t.Setenv("TALLY_SECRET", "")
	t.Setenv("TALLY_SECRET_FILE", secretFile("other-secret", "fedcba9876543210fedcba9876543210-other", 0o400))
	run(2, "the key from $TALLY_SECRET_FILE "+filepath.Join(creds, "other-secret")+" is not the key", "run")
	t.Setenv("TALLY_SECRET_FILE", keyFile)

	// A token in the variable as well as in the file.
	t.Setenv("TALLY_META_TOKEN", fakeSecrets["TALLY_META_TOKEN"])
	run(2, "uploaders.meta.access_token_file: is set and so is environment variable TALLY_META_TOKEN", "upload")
	t.Setenv("TALLY_META_TOKEN", "")
	// The credentials directory gone (the unit started without it).
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	run(2, "uploaders.meta.access_token_file: is a relative path and $CREDENTIALS_DIRECTORY is not set", "upload")
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	// A deleted token file.
	if err := os.Remove(ga4); err != nil {
		t.Fatal(err)
	}
	run(2, "uploaders.google.api_secret_file: open "+ga4+": no such file", "upload")
	// A dry run needs no credential.
	run(0, "", "upload", "--dry-run")
	// Both keys written in the config: refused when it is read, whatever runs.
	write(t, cfgPath, strings.Replace(text, "[uploaders.meta]\n", "[uploaders.meta]\naccess_token_env = \"TALLY_META_TOKEN\"\n", 1))
	run(2, "uploaders.meta.access_token_file: set only one of uploaders.meta.access_token_env and uploaders.meta.access_token_file", "upload", "--dry-run")

	for name, v := range fakeSecrets {
		if strings.Contains(output.String(), v) {
			t.Errorf("output shows %s", name)
		}
	}
	if strings.Contains(output.String(), key) {
		t.Error("output shows the hashing key")
	}
}
