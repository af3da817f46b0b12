package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// A lock row from another host whose expiry lies far ahead (an edited row,
// a host whose clock was wrong) is never presumed dead: the upload exits 1
// and sends nothing, and its message says when the lock frees itself and
// how to remove it, so the operator is not left guessing. After the
// removal the upload works.
func TestForeignLockSaysWhenItExpires(t *testing.T) {
	f, cfg, dbPath := credentialedUpload(t, uploadertest.Released{Day: "2026-11-20", Platform: "meta", Campaign: "cmp1", Conversion: "booking", N: 12})
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := sqlfile.Open(t, db.Path).Exec(`INSERT INTO locks (name, holder, acquired_at, expires_at)
		VALUES ('run', 'otherhost/42/0123abcd', '2026-11-20T03:30:00.000Z', '2099-01-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runTally(t, "--config", cfg, "--now", uploadNow, "upload")
	remedy := `DELETE FROM locks WHERE name = 'run'`
	if code != exitFailure || !strings.Contains(errOut, "otherhost/42") || !strings.Contains(errOut, "until 2099-01-01T00:00:00.000Z") ||
		!strings.Contains(errOut, remedy) || f.total() != 0 {
		t.Fatalf("upload under a foreign lock: exit %d, %d requests\n%s\n%s", code, f.total(), out, errOut)
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(remedy); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runTally(t, "--config", cfg, "--now", uploadNow, "upload"); code != 0 || !strings.Contains(out, "meta: 12 sent") {
		t.Fatalf("upload after removing the lock: exit %d\n%s\n%s", code, out, errOut)
	}
}
