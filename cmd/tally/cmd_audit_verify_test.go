package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// auditedRun builds a file through the real commands: three sealed days
// (meta/spring/booking released 12 each), one request to the fake Meta
// carrying the 36 conversions, all under --now. It returns the config path,
// the database path and the run's stderr (its log).
func auditedRun(t *testing.T) (cfg, dbPath, runLog string) {
	t.Helper()
	f := newFakePlatforms(t)
	cfg, dbPath = pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-16", "2026-11-17", "2026-11-18")
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T13:00:00Z", "run")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	return cfg, dbPath, errOut
}

// tamper is an edit someone with sqlite3 makes to a copy of the file,
// and what `tally audit verify` must name when it fails on it.
type tamper struct {
	name  string
	stmts []string
	want  string
}

// verifyCatches applies each tamper to its own copy of dbPath: `audit
// verify` must exit 1 naming what the tamper changed.
func verifyCatches(t *testing.T, cfg, dbPath string, tampers []tamper) {
	t.Helper()
	for _, tt := range tampers {
		t.Run(tt.name, func(t *testing.T) {
			cp := tamperedCopy(t, dbPath, tt.stmts...)
			code, out, errOut := runTally(t, "--config", cfg, "--db", cp, "audit", "verify")
			if code != exitFailure || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("verify: exit %d (want 1), want %q named\n%s%s", code, tt.want, out, errOut)
			}
		})
	}
}

// tamperedCopy copies the file and applies stmts to the copy, as someone
// with sqlite3 would.
func tamperedCopy(t *testing.T, dbPath string, stmts ...string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy.db")
	if _, err := sqlfile.Open(t, dbPath).Exec(`VACUUM INTO ?`, dst); err != nil {
		t.Fatal(err)
	}
	cp, err := sql.Open("sqlite", dst)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	for _, s := range stmts {
		if _, err := cp.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return dst
}

// TestAuditVerifyChecksData: the edits an attacker with sqlite3 makes to
// the data (not the chain) fail `tally audit verify` with exit 1, naming
// the table and row.
func TestAuditVerifyChecksData(t *testing.T) {
	cfg, dbPath, _ := auditedRun(t)
	code, out, errOut := runTally(t, "--config", cfg, "audit", "verify")
	if code != 0 || !strings.Contains(out, "data agrees with the audit log: 3 sealed days, 1 upload requests (0 pruned), 3 uploads rows") {
		t.Fatalf("intact file: exit %d\n%s%s", code, out, errOut)
	}
	verifyCatches(t, cfg, dbPath, []tamper{
		{"released count raised", []string{`DROP TRIGGER daily_counts_no_update`,
			`UPDATE daily_counts SET released_count = 1200, total = 1200 WHERE day = '2026-11-17'`}, "daily_counts 2026-11-17"},
		{"request body edited", []string{`DROP TRIGGER IF EXISTS upload_requests_body_fixed`,
			`UPDATE upload_requests SET body = replace(body, 'spring', 'summer') WHERE id = 1`}, "upload_requests id 1: body"},
		{"privacy receipt edited", []string{`DROP TRIGGER privacy_receipts_no_update`,
			`UPDATE privacy_receipts SET noise = 'geometric', epsilon = '0.1', visitor_epsilon = '0.1' WHERE day = '2026-11-17'`},
			"privacy_receipts 2026-11-17: differs from the receipt its seal recorded"},
		{"privacy receipt deleted", []string{`DROP TRIGGER privacy_receipts_no_delete`, `DELETE FROM privacy_receipts WHERE day = '2026-11-18'`},
			"privacy_receipts 2026-11-18: the seal recorded a receipt but the row is gone"},
		{"privacy receipt forged", []string{`INSERT INTO privacy_receipts VALUES ('2026-10-01', 11, 'none', '', 1, '', '', 'x', '2026-10-02T03:00:00.000Z')`},
			"privacy_receipts 2026-10-01: a receipt no seal in the audit log recorded"},
		{"purges row forged", []string{`INSERT INTO purges (day, events, purged_at) VALUES ('2026-11-10', 40, '2026-11-19T13:00:00.000Z')`},
			"purges 2026-11-10|40"},
		{"uploads row rewound", []string{`UPDATE uploads SET next_index = 0 WHERE day = '2026-11-17'`},
			"uploads 2026-11-17/meta/spring/booking: acked 12 + rejected 0 + uncertain 0 differ from next_index 0"},
		{"uploads row deleted", []string{`DELETE FROM uploads WHERE day = '2026-11-18'`},
			"uploads 2026-11-18/meta/spring/booking: carried by upload requests, but the row is gone"},
		{"key fingerprint deleted", []string{`DROP TRIGGER key_fingerprint_no_delete`, `DELETE FROM key_fingerprint`},
			"key_fingerprint id 1: the audit log records a key fingerprint, the row is gone"},
		{"sealed day reopened", []string{`UPDATE days SET sealed_at = NULL WHERE day = '2026-11-16'`},
			"days 2026-11-16: sealed in the audit log, but not marked sealed"},
		{"events of a sealed day deleted", []string{`DELETE FROM events WHERE day = '2026-11-16'`},
			"events 2026-11-16: the seal recorded"},
		{"consent purge mark planted", []string{`INSERT INTO consent_purge_marks SELECT visitor_key FROM consents LIMIT 1`},
			"consent_purge_marks 1 rows"},
		{"as_of edited", []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET as_of = '2026-11-01T00:00:00.000Z' WHERE id = 2`},
			"audit_log row 2: hash does not match"},
	})
}

// TestAuditHeadAnchorsTheChain: `tally run` logs the head, `audit head`
// prints it, and `audit verify --head` holds while the chain grows and
// fails once the anchored row is missing or the chain was rewritten.
func TestAuditHeadAnchorsTheChain(t *testing.T) {
	cfg, dbPath, runLog := auditedRun(t)
	code, out, errOut := runTally(t, "--config", cfg, "audit", "head")
	head := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^\d+:[0-9a-f]{64}$`).MatchString(head) {
		t.Fatalf("audit head: exit %d %q %s", code, out, errOut)
	}
	if !strings.Contains(runLog, "audit_head="+head) {
		t.Errorf("the run's log does not anchor the head %s:\n%s", head, runLog)
	}
	// The chain grows: the anchor still holds.
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T14:00:00Z", "run"); code != 0 {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runTally(t, "--config", cfg, "audit", "verify", "--head", head); code != 0 || !strings.Contains(out, "anchor "+head+": in the chain") {
		t.Fatalf("verify --head: exit %d\n%s%s", code, out, errOut)
	}
	id, _, _ := strings.Cut(head, ":")
	// Cut at the anchor, or rewritten: a seal's detail edited and every
	// hash from there on recomputed. Either chain is intact on its own.
	cut := tamperedCopy(t, dbPath, `DROP TRIGGER audit_log_no_delete`, `DELETE FROM audit_log WHERE id >= `+id)
	rewritten := tamperedCopy(t, dbPath, `DROP TRIGGER audit_log_no_update`)
	rehashFrom(t, rewritten, `UPDATE audit_log SET detail = replace(detail, '"released_conversions":12', '"released_conversions":1200')
		WHERE id = (SELECT min(id) FROM audit_log WHERE kind = 'rollup')`)
	for name, cp := range map[string]string{"cut": cut, "rewritten": rewritten} {
		if code, out, errOut := runTally(t, "--config", cfg, "--db", cp, "audit", "verify"); name == "rewritten" && code != 0 {
			t.Fatalf("the rewritten chain should verify without an anchor: exit %d\n%s%s", code, out, errOut)
		}
		code, out, errOut := runTally(t, "--config", cfg, "--db", cp, "audit", "verify", "--head", head)
		if code != exitFailure || !strings.Contains(errOut, "row "+id) {
			t.Errorf("%s: verify --head exit %d (want 1 naming row %s)\n%s%s", name, code, id, out, errOut)
		}
	}
	if code, _, errOut := runTally(t, "--config", cfg, "audit", "verify", "--head", "7:nothex"); code != exitUsage || !strings.Contains(errOut, "--head") {
		t.Errorf("bad --head: exit %d %s", code, errOut)
	}
}

// rehashFrom applies edit to the file at path, then recomputes every
// audit row's hash and prev_hash by the documented formula, as a tamperer
// who read docs/SCHEMA.md would.
func rehashFrom(t *testing.T, path, edit string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(edit); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT id, at || '|' || coalesce(as_of || '|', '') || kind || '|' || detail FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id   int64
		rest string
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.rest); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	rows.Close()
	prev := strings.Repeat("0", 64)
	for _, r := range all {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%s", prev, r.id, r.rest)))
		hash := hex.EncodeToString(sum[:])
		if _, err := db.Exec(`UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?`, prev, hash, r.id); err != nil {
			t.Fatal(err)
		}
		prev = hash
	}
}

// TestAuditTimesAreTrue: rows written under --now carry the wall-clock
// time in at and the --now instant in as_of; without --now, as_of is NULL.
func TestAuditTimesAreTrue(t *testing.T) {
	before := time.Now().UTC().Add(-time.Second)
	cfg, dbPath, _ := auditedRun(t)
	if code, out, errOut := runTally(t, "--config", cfg, "audit", "verify"); code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	after := time.Now().UTC().Add(time.Second)
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	db.AuditEntries(context.Background(), "", func(e store.AuditEntry) error {
		n++
		at, err := store.ParseTime(e.At)
		if err != nil || at.Before(before) || at.After(after) {
			t.Errorf("row %d (%s): at %s is not the wall clock of the write", e.ID, e.Kind, e.At)
		}
		if !e.AsOf.Valid || !strings.HasPrefix(e.AsOf.String, "2026-11-19T1") {
			t.Errorf("row %d (%s): as_of %+v, want the --now instant", e.ID, e.Kind, e.AsOf)
		}
		return nil
	})
	if n < 5 {
		t.Fatalf("%d audit rows", n)
	}
	// `tally audit log` shows both times of a row written as of --now.
	code, out, errOut := runTally(t, "--config", cfg, "audit", "log")
	if code != 0 {
		t.Fatalf("audit log: exit %d\n%s%s", code, out, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(line, "as_of=2026-11-19T1") {
			t.Errorf("audit log line without the --now instant: %s", line)
		}
	}
	// A scan recorded without --now: as_of stays NULL.
	page := write(t, filepath.Join(t.TempDir(), "page.html"), "<html><body>clean</body></html>")
	if code, out, errOut := runTally(t, "--config", cfg, "scan", page); code != 0 {
		t.Fatalf("scan: exit %d\n%s%s", code, out, errOut)
	}
	var asOf sql.NullString
	if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT as_of FROM audit_log WHERE kind = 'scan'`).Scan(&asOf); err != nil || asOf.Valid {
		t.Errorf("scan without --now: as_of %+v %v, want NULL", asOf, err)
	}
}

// TestRunPrunesLedgerAndConsents: the run's purge step applies
// store.ledger_retention_days and store.consent_retention_days, each prune
// with its audit entry, and verify still passes.
func TestRunPrunesLedgerAndConsents(t *testing.T) {
	cfg, dbPath, _ := auditedRun(t)
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Consents were recorded at --now 2026-11-19T12:00Z; the request is
	// made old (sent_at is not hashed or checked) so that the test does
	// not depend on which clock stamps a send.
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE upload_requests SET sent_at = '2026-11-01T00:00:00.000Z'`); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgText := strings.Replace(string(raw), "[store]\n", "[store]\nledger_retention_days = 3\nconsent_retention_days = 2\n", 1)
	write(t, cfg, cfgText)
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-21T13:00:00Z", "run")
	if code != 0 || !strings.Contains(errOut, "upload ledger pruned") || !strings.Contains(errOut, "consent history purged") {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	var body string
	var consents, entries int
	sqlfile.Open(t, db.Path).QueryRow(`SELECT body FROM upload_requests WHERE id = 1 AND pruned_at IS NOT NULL`).Scan(&body)
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM consents`).Scan(&consents)
	sqlfile.Open(t, db.Path).QueryRow(`SELECT count(*) FROM audit_log WHERE kind = 'purge' AND json_extract(detail, '$.table') IN ('upload_requests', 'consents')`).Scan(&entries)
	if body != "" || consents != 0 || entries != 2 {
		t.Errorf("after the run: body %q, %d consents, %d purge entries; want pruned, 0, 2", body, consents, entries)
	}
	if code, out, errOut := runTally(t, "--config", cfg, "audit", "verify"); code != 0 || !strings.Contains(out, "(1 pruned)") {
		t.Errorf("verify after pruning: exit %d\n%s%s", code, out, errOut)
	}
}
