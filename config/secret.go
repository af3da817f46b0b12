package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Secret is a credential read from the environment. It prints as
// "[redacted]" in every format so it cannot leak into logs or errors.
type Secret struct{ v string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the value, for the one place that attaches it to a request.
func (s Secret) Reveal() string { return s.v }

// Empty reports whether the secret has no value.
func (s Secret) Empty() bool { return s.v == "" }

func (s Secret) String() string                { return "[redacted]" }
func (s Secret) GoString() string              { return "[redacted]" }
func (s Secret) MarshalText() ([]byte, error)  { return []byte("[redacted]"), nil }
func (s Secret) MarshalJSON() ([]byte, error)  { return []byte(`"[redacted]"`), nil }
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte("[redacted]")) }

// EnvSecret reads the secret from the environment variable named by key's
// value; a missing or empty variable is an error naming both.
func EnvSecret(key, env string) (Secret, error) {
	v := os.Getenv(env)
	if v == "" {
		return Secret{}, bad(key, "environment variable %s is not set", env)
	}
	return Secret{v: v}, nil
}

// minKeyBytes is the shortest HMAC key accepted from $TALLY_SECRET.
const minKeyBytes = 16

// HashKey returns the key for tally's keyed hashes: $TALLY_SECRET when set,
// else the contents of store.key_file, which is created with 32 random bytes
// and mode 0600 when missing. The key is never written to the database.
func (c *Config) HashKey() ([]byte, error) {
	if v := os.Getenv("TALLY_SECRET"); v != "" {
		if len(v) < minKeyBytes {
			return nil, fmt.Errorf("config: TALLY_SECRET: must be at least %d bytes", minKeyBytes)
		}
		return []byte(v), nil
	}
	path := c.Store.KeyFile
	if path == "" {
		return nil, bad("store.key_file", "must be set when TALLY_SECRET is unset")
	}
	b, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if len(key) < minKeyBytes {
			return nil, bad("store.key_file", "%s holds fewer than %d bytes", path, minKeyBytes)
		}
		return []byte(key), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("config: read key file: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("config: generate key: %w", err)
	}
	key := hex.EncodeToString(raw)
	// O_EXCL: two processes starting at once must not both write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return c.HashKey()
	}
	if err != nil {
		return nil, fmt.Errorf("config: create key file: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("config: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("config: write key file: %w", err)
	}
	return []byte(key), nil
}
