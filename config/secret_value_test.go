package config

import (
	"strings"
	"testing"
)

// TestSecretSetWhereItsPathBelongs: an operator who sets a *_file key or
// $TALLY_SECRET_FILE to the secret itself (mixing up TALLY_SECRET and
// TALLY_SECRET_FILE, or access_token_env and access_token_file) gets an
// error naming the key and saying no file is there, and never the value,
// whether or not $CREDENTIALS_DIRECTORY is set.
func TestSecretSetWhereItsPathBelongs(t *testing.T) {
	const value = "EAABxTokenSetWhereItsPathBelongs"
	for _, creds := range []string{"", t.TempDir()} {
		t.Setenv("CREDENTIALS_DIRECTORY", creds)
		t.Setenv("TIKTOK_TOKEN_FOR_TEST", "")
		src := SecretSource{"uploaders.tiktok.access_token_env", "TIKTOK_TOKEN_FOR_TEST", "uploaders.tiktok.access_token_file", value}
		_, err := src.Read()
		if err == nil || !strings.Contains(err.Error(), "uploaders.tiktok.access_token_file") || strings.Contains(err.Error(), value) {
			t.Errorf("$CREDENTIALS_DIRECTORY=%q: *_file set to the secret: %v, want an error naming the key, not the value", creds, err)
		}
		t.Setenv("TALLY_SECRET", "")
		t.Setenv("TALLY_SECRET_FILE", value)
		_, err = (&Config{}).LoadHashKey(false)
		if err == nil || !strings.Contains(err.Error(), "$TALLY_SECRET_FILE") || strings.Contains(err.Error(), value) {
			t.Errorf("$CREDENTIALS_DIRECTORY=%q: $TALLY_SECRET_FILE set to the secret: %v, want an error naming the variable, not the value", creds, err)
		}
	}
}
