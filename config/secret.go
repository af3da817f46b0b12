package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tally-health/tally"
)

// SecretSource is where one secret comes from: the environment variable an
// *_env key names, or the file its *_file sibling names (when set).
type SecretSource struct {
	EnvKey, Env   string // "uploaders.meta.access_token_env", "TALLY_META_TOKEN"
	FileKey, File string // "uploaders.meta.access_token_file", "" when unset
}

// Credential is where platform p's credential comes from.
func (u *Uploaders) Credential(p tally.Platform) SecretSource {
	key := "uploaders." + string(p) + "."
	switch p {
	case tally.PlatformMeta:
		return SecretSource{key + "access_token_env", u.Meta.AccessTokenEnv, key + "access_token_file", u.Meta.AccessTokenFile}
	case tally.PlatformGoogle:
		return SecretSource{key + "api_secret_env", u.Google.APISecretEnv, key + "api_secret_file", u.Google.APISecretFile}
	case tally.PlatformTikTok:
		return SecretSource{key + "access_token_env", u.TikTok.AccessTokenEnv, key + "access_token_file", u.TikTok.AccessTokenFile}
	case tally.PlatformLinkedIn:
		return SecretSource{key + "access_token_env", u.LinkedIn.AccessTokenEnv, key + "access_token_file", u.LinkedIn.AccessTokenFile}
	}
	return SecretSource{}
}

// Read returns the secret: the file's contents when File is set (see
// ReadSecretFile), else the environment variable's value. A file set while
// the variable holds a value too is an error, as is a missing or empty
// variable; every error names keys, variables and paths, never a value.
func (s SecretSource) Read() (tally.Secret, error) {
	if s.File != "" {
		if os.Getenv(s.Env) != "" {
			return tally.Secret{}, bad(s.FileKey, "is set and so is environment variable %s (named by %s): unset one", s.Env, s.EnvKey)
		}
		b, err := ReadSecretFile(s.FileKey, s.File)
		if err != nil {
			return tally.Secret{}, err
		}
		return tally.NewSecret(string(b)), nil
	}
	v := os.Getenv(s.Env)
	if v == "" {
		return tally.Secret{}, bad(s.EnvKey, "environment variable %s is not set (or set %s to a file holding it)", s.Env, s.FileKey)
	}
	return tally.NewSecret(v), nil
}

// maxSecretFile bounds a secret file: a token is a few hundred bytes, and
// a path pointing at the wrong file (the database) should fail, not load.
const maxSecretFile = 64 << 10

// SecretFilePath is where a *_file value is read: an absolute path as it
// is; a relative one inside $CREDENTIALS_DIRECTORY, where systemd puts the
// credentials of LoadCredential= and SetCredential=. A relative path
// without that variable is an error (no working-directory guessing).
func SecretFilePath(key, path string) (string, error) {
	if filepath.IsAbs(path) {
		return path, nil
	}
	dir := os.Getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		// The value is not shown: a relative one may be the secret itself,
		// set where its path belongs.
		return "", bad(key, "is a relative path and $CREDENTIALS_DIRECTORY is not set: give an absolute path")
	}
	return filepath.Join(dir, path), nil
}

// ReadSecretFile reads the secret in the file path names for key (see
// SecretFilePath). Trailing line breaks (\n or \r\n, as `echo` or an
// editor leave them) are removed; nothing else is. The file must be a
// regular file (a symbolic link to one, as Kubernetes mounts secrets, is
// followed) of at most 64 KiB and not empty.
func ReadSecretFile(key, path string) ([]byte, error) {
	full, err := SecretFilePath(key, path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(full)
	switch {
	case err != nil && !filepath.IsAbs(path) && errors.Is(err, fs.ErrNotExist):
		// A relative value that names no file may be the secret itself,
		// set where its path belongs (TALLY_SECRET_FILE for TALLY_SECRET):
		// not shown.
		return nil, bad(key, "no such file in $CREDENTIALS_DIRECTORY %s (the name is not shown: it may be the secret itself)", os.Getenv("CREDENTIALS_DIRECTORY"))
	case err != nil:
		return nil, bad(key, "%v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, bad(key, "%v", err)
	case fi.IsDir():
		return nil, bad(key, "%s is a directory, not a file holding the secret", full)
	case !fi.Mode().IsRegular():
		return nil, bad(key, "%s is not a regular file", full)
	case fi.Size() > maxSecretFile:
		return nil, bad(key, "%s holds %d bytes, more than a secret (at most %d): is it the right file?", full, fi.Size(), maxSecretFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, bad(key, "read %s: %v", full, err)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, bad(key, "%s is empty", full)
	}
	return b, nil
}

// OthersCanRead returns the secret files cfg names (for enabled platforms,
// and $TALLY_SECRET_FILE) that exist and that users other than the owner
// and group may read: `tally` warns about each at start. It does not refuse
// them: Docker and Kubernetes mount secrets world-readable unless told
// otherwise, inside a container no other user exists to read them.
func (c *Config) OthersCanRead() []string {
	if runtime.GOOS == "windows" { // no Unix permission bits to judge
		return nil
	}
	var paths []string
	if f := os.Getenv("TALLY_SECRET_FILE"); f != "" {
		paths = append(paths, f)
	}
	for _, p := range tally.UploadPlatforms {
		if src := c.Uploaders.Credential(p); c.Uploaders.Delivery(p).Enabled && src.File != "" {
			paths = append(paths, src.File)
		}
	}
	var out []string
	for _, path := range paths {
		full, err := SecretFilePath("", path)
		if err != nil {
			continue // reported when the secret is read
		}
		if fi, err := os.Stat(full); err == nil && fi.Mode().Perm()&0o004 != 0 {
			out = append(out, full)
		}
	}
	return out
}

// minKeyBytes is the shortest HMAC key accepted from $TALLY_SECRET or
// $TALLY_SECRET_FILE.
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
	if f := os.Getenv("TALLY_SECRET_FILE"); f != "" {
		return "$TALLY_SECRET_FILE " + f
	}
	return "store.key_file " + c.KeyPath()
}

// LoadHashKey returns the key for tally's keyed hashes: $TALLY_SECRET when
// set, else the contents of the file $TALLY_SECRET_FILE names (read as
// ReadSecretFile reads; both set is an error), else the contents of
// store.key_file (see KeyPath). A missing key
// file is created with 32 random bytes and mode 0600 only when create is
// true; otherwise the error wraps ErrNoKeyFile. The key is never written to
// the database.
func (c *Config) LoadHashKey(create bool) ([]byte, error) {
	v, file := os.Getenv("TALLY_SECRET"), os.Getenv("TALLY_SECRET_FILE")
	switch {
	case v != "" && file != "":
		return nil, errors.New("config: TALLY_SECRET and TALLY_SECRET_FILE are both set: unset one")
	case v != "":
		if len(v) < minKeyBytes {
			return nil, fmt.Errorf("config: TALLY_SECRET: must be at least %d bytes", minKeyBytes)
		}
		return []byte(v), nil
	case file != "":
		b, err := ReadSecretFile("$TALLY_SECRET_FILE", file)
		if err != nil {
			return nil, err
		}
		if len(b) < minKeyBytes {
			return nil, bad("$TALLY_SECRET_FILE", "%s holds fewer than %d bytes", file, minKeyBytes)
		}
		return b, nil
	}
	path := c.KeyPath()
	if path == "" {
		return nil, bad("store.key_file", "must be set when TALLY_SECRET and TALLY_SECRET_FILE are unset")
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
