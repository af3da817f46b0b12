package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/internal/wire"
	"github.com/tally-health/tally/store"
)

// TestSealedDayLeavesNoTraceInFile seals a day with `tally rollup` and with
// `tally run` while `tally serve` keeps the same database open (so nothing
// removes the WAL on close). Once the command exits 0, neither tally.db nor
// its -wal may hold the day's salt, any of its contribution keys, or the
// permanent-key hash of any of its event ids.
func TestSealedDayLeavesNoTraceInFile(t *testing.T) {
	for _, command := range []string{"rollup", "run"} {
		t.Run(command, func(t *testing.T) { testSealLeavesNoTrace(t, command) })
	}
}

const scrubSecret = "scrub-test-secret-0123456789"

func testSealLeavesNoTrace(t *testing.T, command string) {
	o := openDayServed(t)
	dir, cfgPath, env, srv, day, eventIDs := o.dir, o.cfgPath, o.env, o.srv, o.day, o.eventIDs
	post := o.post
	dbPath := filepath.Join(dir, "tally.db")
	secrets := sealedDaySecrets(t, dbPath, day)
	if len(secrets) != 3601 {
		t.Fatalf("read %d salts and keys, want 1 salt and 3600 contribution keys (per cell and per visitor)", len(secrets))
	}
	if !bytes.Contains(dbFileBytes(t, dbPath), secrets[0].b) {
		t.Fatal("the open day's salt is not in tally.db or its WAL: the test would prove nothing")
	}
	p, err := intake.NewPipeline(wire.IntakeOptions(config.Default(), []byte(scrubSecret), time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range eventIDs {
		secrets = append(secrets, secret{"permanent-key hash of an event id", p.Hash("event_id", id)})
	}

	cmd := exec.Command(tallyBinary(t), "--config", cfgPath, "--now", time.Now().UTC().Format(time.RFC3339), command)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tally %s: %v, want exit 0\n%s", command, err, out)
	}
	if !bytes.Contains(out, []byte("sealed "+day+": 1800 events")) {
		t.Fatalf("tally %s did not seal %s:\n%s", command, day, out)
	}
	files := dbFileBytes(t, dbPath)
	leaks := map[string]int{}
	for _, s := range secrets {
		if bytes.Contains(files, s.b) {
			leaks[s.kind]++
		}
	}
	for kind, n := range leaks {
		t.Errorf("PRIVACY LEAK: %d x %s of sealed day %s still in tally.db or tally.db-wal after tally %s", n, kind, day, command)
	}

	// serve goes on taking events after its WAL was truncated under it.
	post("/v1/consent", map[string]any{"visitor_id": "later", "purposes": map[string]bool{"advertising": true}})
	if sum := post("/v1/events", map[string]any{"events": []any{map[string]any{"event_id": "later-1",
		"event": "appointment_booked", "visitor_id": "later"}}}); sum["accepted"] != 1.0 {
		t.Fatalf("event after the seal: %v, want accepted", sum)
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve exit after SIGTERM: %v, want 0\n%s", err, srv.logs.Bytes())
	}
}

// secret is a byte string that must not outlive its day's seal.
type secret struct {
	kind string
	b    []byte
}

// sealedDaySecrets reads day's salt (first) and contribution keys with
// plain SQL while serve holds the database.
func sealedDaySecrets(t *testing.T, dbPath, day string) []secret {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []secret
	var salt []byte
	if err := db.QueryRowContext(ctx, `SELECT salt FROM days WHERE day = ?`, day).Scan(&salt); err != nil || len(salt) == 0 {
		t.Fatalf("salt of %s: %x, %v", day, salt, err)
	}
	out = append(out, secret{"salt", salt})
	table, err := store.ContribTable(tally.Day(day))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT key FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, secret{"contribution key", k})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dbFileBytes returns the raw bytes of the database file and its WAL,
// separated by a zero run longer than any secret, so no match spans both.
func dbFileBytes(t *testing.T, dbPath string) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		raw, err := os.ReadFile(dbPath + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(append(all, raw...), make([]byte, 64)...)
	}
	return all
}

// openDay is a database whose day two days ago is open, holding 1800
// accepted events, while `tally serve` keeps the file open.
type openDay struct {
	dir, cfgPath string
	env          []string
	srv          *server
	day          string
	eventIDs     []string
	post         func(path string, body any) map[string]any
}

// openDayServed imports the visitors' grants, starts `tally serve`, and
// posts 150 visitors x 12 campaigns of events on a day two days ago.
func openDayServed(t *testing.T) openDay {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tally.toml")
	// Each visitor converts in 12 cells: the bound lets all of them count.
	if err := os.WriteFile(cfgPath, []byte("[store]\npath = \"tally.db\"\n[privacy]\nmax_cells_per_visitor_day = 12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"TALLY_SECRET=" + scrubSecret, "TALLY_CONFIG="}
	// A past day, so the command seals it.
	at := time.Now().UTC().Add(-48 * time.Hour)
	day := at.Format(time.DateOnly)
	// The visitors' grants of two days ago come from the consent tool's
	// export: a grant sent to /v1/consent takes effect from its arrival.
	var consents bytes.Buffer
	for v := 0; v < 150; v++ {
		fmt.Fprintf(&consents, `{"visitor_id":"visitor-%d","purposes":{"advertising":true},"time":%q}`+"\n", v, at.Add(-time.Hour).Format(time.RFC3339))
	}
	imp := exec.Command(tallyBinary(t), "--config", cfgPath, "consent", "import", "-")
	imp.Dir, imp.Env, imp.Stdin = dir, append(os.Environ(), env...), &consents
	if out, err := imp.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("recorded 150")) {
		t.Fatalf("consent import: %v\n%s", err, out)
	}
	srv := startServe(t, dir, env, "--config", cfgPath)
	post := func(path string, body any) map[string]any {
		t.Helper()
		out, _ := srv.post(t, path, body, nil)
		return out
	}

	// 150 visitors x 12 campaigns give 1800 events and 3600 contribution
	// keys (one per cell, one per visitor's cell of the day): the
	// contribution table spans many pages, which a DROP frees instead of
	// rewriting.
	var events []any
	var eventIDs []string
	for v := 0; v < 150; v++ {
		visitor := fmt.Sprintf("visitor-%d", v)
		for c := 0; c < 12; c++ {
			id := fmt.Sprintf("booking-%d-%03d", v, c)
			eventIDs = append(eventIDs, id)
			events = append(events, map[string]any{"event_id": id, "event": "appointment_booked", "visitor_id": visitor,
				"source": "facebook", "campaign": fmt.Sprintf("c%03d", c), "time": at.Format(time.RFC3339)})
		}
	}
	for i := 0; i < len(events); i += 300 {
		if sum := post("/v1/events", map[string]any{"events": events[i : i+300]}); sum["accepted"] != 300.0 {
			t.Fatalf("events: %v, want 300 accepted", sum)
		}
	}

	return openDay{dir: dir, cfgPath: cfgPath, env: env, srv: srv, day: day, eventIDs: eventIDs, post: post}
}
