package uploadertest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/store"
)

// noSecretStored runs a dry run, a refused credential, an unreachable host
// (whose Go error names the URL, a query credential included), a timeout
// and a success on one database, with debug logging, and then looks for
// the credential in every byte they left: the database file and its WAL,
// the outbox, the log, the errors.
func noSecretStored(t *testing.T, a Adapter) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "tally.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	platform := a.spec().Platform
	Seed(t, db, Released{Day: Day, Platform: platform, Campaign: Campaign, Conversion: Conversion, N: 30})
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string
	run := func(build NewFunc, respond Respond, dry bool) {
		endpoint := DeadURL(t)
		if respond != nil {
			endpoint = a.serve(t, &Delivered{answers: map[int][]byte{}}, respond).URL
		}
		d, _ := Delivery(db, Now)
		d.Log, d.Outbox = log, filepath.Join(dir, "outbox")
		target := Target(build(endpoint, tally.NewSecret(Secret), timeout), 2)
		target.DryRun = dry
		if s := d.Run(ctx, []batch.Target{target})[0]; s.Err != nil {
			errs = append(errs, s.Err.Error())
		}
	}
	refused := a.Refused[0]
	run(a.New, nil, true)
	run(refused.build(a), refused.Always(t), false)
	run(a.New, nil, false)
	run(a.New, func(n int, c Call, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			Hang(r)
			return
		}
		a.Accept(t, w, c)
	}, false)

	texts := map[string]string{"log": logs.String(), "errors": strings.Join(errs, "\n")}
	if !strings.Contains(texts["log"], "network") || len(errs) == 0 {
		t.Fatalf("the runs logged no network error, or none failed: the test did not exercise them\n%s", texts["log"])
	}
	reqs, err := db.UploadRequests(ctx, string(platform))
	if err != nil || len(reqs) < 4 {
		t.Fatalf("%d ledger rows (%v)", len(reqs), err)
	}
	for _, r := range reqs {
		texts["ledger"] += r.URL + r.Body + r.Response.String + r.Error.String
	}
	for _, u := range Uploads(t, db, platform) {
		texts["uploads"] += u.LastError
	}
	for where, text := range texts {
		if strings.Contains(text, Secret) {
			t.Errorf("%s holds the credential", where)
		}
	}
	if n := scanFiles(t, dir); n < 3 {
		t.Errorf("scanned %d files, want the database, its WAL and the outbox", n)
	}
	db.Close()
	scanFiles(t, dir) // the WAL checkpointed into the database file
}

// scanFiles looks for the credential in every file under dir and returns
// how many it read.
func scanFiles(t *testing.T, dir string) int {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(Secret)) {
			t.Errorf("%s holds the credential", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
