package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tally-health/tally"
)

// EnvSecret reads the secret from the environment variable named by key's
// value; a missing or empty variable is an error naming both.
func EnvSecret(key, env string) (tally.Secret, error) {
	v := os.Getenv(env)
	if v == "" {
		return tally.Secret{}, bad(key, "environment variable %s is not set", env)
	}
	return tally.NewSecret(v), nil
}

// minKeyBytes is the shortest HMAC key accepted from $TALLY_SECRET.
const minKeyBytes = 16

// ErrNoKeyFile is returned by LoadHashKey when store.key_file does not
// exist and may not be created.
var ErrNoKeyFile = errors.New("key file does not exist")

// KeyPath is where store.key_file is read. A relative key_file is taken
// from the database file's folder, not the working directory, so every
// command finds the same key wherever it is started.
func (c *Config) KeyPath() string { return c.inDatabaseFolder(c.Store.KeyFile) }

// KeySource names where the key comes from, for messages: never the key.
func (c *Config) KeySource() string {
	if os.Getenv("TALLY_SECRET") != "" {
		return "$TALLY_SECRET"
	}
	return "store.key_file " + c.KeyPath()
}

// LoadHashKey returns the key for tally's keyed hashes: $TALLY_SECRET when
// set, else the contents of store.key_file (see KeyPath). A missing key
// file is created with 32 random bytes and mode 0600 only when create is
// true; otherwise the error wraps ErrNoKeyFile. The key is never written to
// the database.
func (c *Config) LoadHashKey(create bool) ([]byte, error) {
	if v := os.Getenv("TALLY_SECRET"); v != "" {
		if len(v) < minKeyBytes {
			return nil, fmt.Errorf("config: TALLY_SECRET: must be at least %d bytes", minKeyBytes)
		}
		return []byte(v), nil
	}
	path := c.KeyPath()
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
	if !create {
		return nil, fmt.Errorf("config: store.key_file %s: %w", path, ErrNoKeyFile)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("config: generate key: %w", err)
	}
	key := hex.EncodeToString(raw)
	// Written whole to a private temporary file, then linked into place:
	// the key file never exists half-written (a second process starting
	// at once, or a crash, would find it empty), and link, like O_EXCL,
	// fails when another process got there first.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tally-key-*")
	if err != nil {
		return nil, fmt.Errorf("config: create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(key + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("config: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("config: write key file: %w", err)
	}
	if beforeKeyLink != nil {
		beforeKeyLink()
	}
	err = os.Link(tmp.Name(), path)
	switch {
	case errors.Is(err, fs.ErrExist):
		return c.LoadHashKey(false)
	case err != nil:
		// A file system without hard links: create in place, exclusively.
		return c.writeKeyFile(path, key)
	}
	return []byte(key), nil
}

// writeKeyFile creates path exclusively and writes key into it, for file
// systems that cannot link.
func (c *Config) writeKeyFile(path, key string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return c.LoadHashKey(false)
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

// beforeKeyLink, when set (tests), runs after a new key is written and
// before it is linked into place: another process's moment to race.
var beforeKeyLink func()
