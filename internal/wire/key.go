package wire

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/store"
)

// Key loads the keyed-hash secret and checks it against the key
// fingerprint db recorded when it was first used with a key (recording it
// now if it has none). A missing key file is created only for a database
// that has no fingerprint and holds nothing hashed, so tally never pairs an
// existing database with a new key. Every problem is a configuration error
// naming where the key comes from, never the key.
func Key(ctx context.Context, cfg *config.Config, db *store.DB) ([]byte, error) {
	fp, keyed, err := db.KeyState(ctx)
	if err != nil {
		return nil, err
	}
	key, err := cfg.LoadHashKey(fp == "" && !keyed)
	switch {
	case errors.Is(err, config.ErrNoKeyFile) && fp != "":
		return nil, configErr(fmt.Errorf("key file %s is missing, but %s was first used with a key (its fingerprint is in table key_fingerprint): "+
			"restore that key file or set $TALLY_SECRET to its key; tally does not create a new key for an existing database", cfg.KeyPath(), db.Path))
	case errors.Is(err, config.ErrNoKeyFile):
		return nil, configErr(fmt.Errorf("key file %s is missing, but %s already holds data hashed with a key: restore that key file "+
			"(a relative store.key_file is read from the database's folder; older versions read it from the working directory)", cfg.KeyPath(), db.Path))
	case err != nil:
		return nil, configErr(err)
	}
	err = db.CheckKey(ctx, key, time.Now())
	if errors.Is(err, store.ErrKeyMismatch) {
		return nil, configErr(fmt.Errorf("the key from %s is not the key %s was first used with (its fingerprint is in table key_fingerprint): "+
			"use that key; a new key would drop every event as no_consent", cfg.KeySource(), db.Path))
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}
