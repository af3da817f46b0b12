package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally/store"
	"github.com/tally-health/tally/uploaders/uploadertest"
)

// TestUploadNeverStoresSecrets runs uploads that succeed, fail on a bad
// token, fail on an unreachable host (whose Go error would name the URL,
// token included, for Meta and GA4) and dry-run, with debug logging, and
// then looks for every credential in the output, every file beside the
// database (SQLite file, WAL, outbox) and the stored request URLs.
func TestUploadNeverStoresSecrets(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, dbPath := uploadFixture(t, f.URL, allPlatforms(30)...)
	dir := filepath.Dir(dbPath)
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	logging := "\n[log]\nlevel = \"debug\"\nformat = \"json\"\n"
	writeCfg := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text+logging), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := writeCfg("good.toml", string(base))
	// Meta and GA4 (credentials in the query) point at a dead host.
	dead := uploadertest.DeadURL(t)
	broken := string(base)
	broken = strings.Replace(broken, "[uploaders.meta]\nenabled = true\nendpoint = \""+f.URL+"\"", "[uploaders.meta]\nenabled = true\nmax_attempts = 2\nendpoint = \""+dead+"\"", 1)
	broken = strings.Replace(broken, "[uploaders.google]\nenabled = true\nendpoint = \""+f.URL+"\"", "[uploaders.google]\nenabled = true\nmax_attempts = 2\nendpoint = \""+dead+"\"", 1)
	if broken == string(base) {
		t.Fatal("could not point meta and google at the dead host")
	}
	bad := writeCfg("broken.toml", broken)

	var output strings.Builder
	runIt := func(wantCode int, args ...string) {
		t.Helper()
		code, stdout, stderr := runTally(t, args...)
		output.WriteString(stdout + stderr)
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, wantCode, stdout, stderr)
		}
	}
	setSecrets(t)
	runIt(0, "upload", "--config", good, "--now", uploadNow, "--dry-run")
	// Unreachable Meta and GA4; TikTok with a wrong token.
	t.Setenv("TALLY_TIKTOK_TOKEN", "tiktok-SECRET-wrong-token-9e9e")
	runIt(1, "upload", "--config", bad, "--now", uploadNow)
	setSecrets(t)
	runIt(0, "upload", "--config", good, "--now", uploadNow)
	for _, p := range []string{"meta", "google", "tiktok", "linkedin"} {
		if ids, _ := f.distinct(p); ids != 41 {
			t.Errorf("%s: %d delivered, want 41 (the fake checks credentials, so they were sent)", p, ids)
		}
	}

	secrets := []string{"tiktok-SECRET-wrong-token-9e9e"}
	for _, v := range fakeSecrets {
		secrets = append(secrets, v)
	}
	check := func(where, text string) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds secret %q", where, s)
			}
		}
	}
	check("output and logs", output.String())
	if !strings.Contains(output.String(), "network") {
		t.Error("the unreachable-host run logged no network error: the test did not exercise it")
	}
	files := filesUnder(t, dir)
	for path, b := range files {
		check(path, string(b))
	}
	if outbox, _ := filepath.Glob(filepath.Join(dir, "outbox", "*", "*.json")); len(outbox) != 6 || len(files) < 7 {
		t.Errorf("scanned %d files, %d outbox files; want the database and 6 outbox bodies", len(files), len(outbox))
	}
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reqs, err := db.UploadRequests(context.Background(), "")
	if err != nil || len(reqs) < 8 {
		t.Fatalf("%d requests (%v)", len(reqs), err)
	}
	for _, r := range reqs {
		check("upload_requests", r.URL+r.Body+r.Response.String+r.Error.String)
		if strings.Contains(r.URL, "access_token") || strings.Contains(r.URL, "api_secret") {
			t.Errorf("stored URL names a credential: %s", r.URL)
		}
	}
	ups := uploadertest.Uploads(t, db, "meta")
	for _, u := range ups {
		check("uploads", u.LastError)
	}
}
