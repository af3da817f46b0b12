package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// The auditor's guide, docs/SCHEMA.md, promises that its SQL answers the
// auditor's questions on a real tally file. This test builds one through
// the real commands and runs every ```sql block of the guide against it.

const schemaDocPath = "../../docs/SCHEMA.md"

// schemaDocSecret is the keyed-hash secret of the fixture; the test needs
// it to compute a visitor's key, as the organisation (not the auditor) can.
const schemaDocSecret = "schema-doc-test-secret-0123456789"

// schemaDocParams are the values bound to the guide's named parameters.
// The fixture below is built so that each key query has a known answer.
var schemaDocParams = map[string]any{
	"day":         "2026-11-19",
	"from":        "2026-11-19",
	"to":          "2026-11-20",
	"platform":    "meta",
	"campaign":    "spring",
	"request_id":  1,
	"visitor_key": visitorKeyHex(schemaDocSecret, "v07"),
}

// visitorKeyHex is how tally keys a visitor id (intake.Pipeline.Hash):
// HMAC-SHA256(secret, "visitor" || 0x00 || id), first store.KeyLen bytes.
func visitorKeyHex(secret, visitorID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("visitor\x00" + visitorID))
	return hex.EncodeToString(m.Sum(nil)[:store.KeyLen])
}

// buildSchemaDocDB runs consent import, ingest (two days and an open
// third), rollup, a real upload to the fake Meta and a recorded scan:
//
//	2026-11-19  meta/spring/booking 5 (released), google/winter/booking 3
//	            (released; google not enabled, so never delivered),
//	            google/autumn/lead 1 (held); dropped: no_consent 2 (one
//	            after a withdrawal, one never asked), over_bound 1,
//	            unmapped_event 1, bad_campaign 1; duplicate 1
//	2026-11-20  meta/spring/booking 3 (released), google/autumn/lead 1+1
//	            carried (suppressed), tiktok//booking 1 and none//booking 1
//	            (held)
//	2026-11-21  one event, day still open at --now
//
// and imports spend: meta/spring 12.50 EUR and 7.50 EUR on the two days,
// google/summer 3 EUR on the second (a campaign without conversions).
func buildSchemaDocDB(t *testing.T) (cfgPath, dbPath string) {
	t.Helper()
	t.Setenv("TALLY_CONFIG", "")
	t.Setenv("TALLY_SECRET", schemaDocSecret)
	setSecrets(t)
	f := newFakePlatforms(t)
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "tally.db")
	cfgPath = write(t, filepath.Join(dir, "tally.toml"), fmt.Sprintf(`[store]
path = %q
[privacy]
min_count = 3
carry_days = 1
max_cells_per_visitor_day = 10 # the fixture's visitors convert in several cells a day
[consent]
sources = ["cmp-x"]
versions = ["policy-v3"]
[uploaders.meta]
enabled = true
endpoint = %q
dataset_id = "123456"
rate = 100000.0
`, dbPath, f.URL))
	const now = "2026-11-21T04:00:00Z"
	tally := func(wantCode int, args ...string) string {
		t.Helper()
		code, stdout, stderr := runTally(t, append([]string{"--config", cfgPath, "--now", now}, args...)...)
		if code != wantCode {
			t.Fatalf("tally %v: exit %d, want %d\n%s%s", args, code, wantCode, stdout, stderr)
		}
		return stdout
	}

	var consents []string
	for _, v := range []string{"v01", "v02", "v03", "v04", "v05", "v06", "v07"} {
		consents = append(consents, fmt.Sprintf(`{"visitor_id":%q,"purposes":{"advertising":true},"time":"2026-11-18T09:00:00Z","source":"cmp-x","version":"policy-v3"}`, v))
	}
	consents = append(consents, `{"visitor_id":"v07","purposes":{"advertising":false},"time":"2026-11-19T12:00:00Z","source":"cmp-x","version":"policy-v3"}`)
	tally(0, "consent", "import", write(t, filepath.Join(dir, "consent.ndjson"), strings.Join(consents, "\n")+"\n"))

	ev := func(id, visitor, event, source, campaign, at string) string {
		return fmt.Sprintf(`{"event_id":%q,"event":%q,"visitor_id":%q,"source":%q,"campaign":%q,"time":%q,"email":"jane@example.org"}`,
			id, event, visitor, source, campaign, at)
	}
	day1 := []string{
		ev("e01", "v01", "appointment_booked", "facebook", "spring", "2026-11-19T10:00:00Z"),
		ev("e02", "v02", "appointment_booked", "facebook", "spring", "2026-11-19T10:00:00Z"),
		ev("e03", "v03", "appointment_booked", "facebook", "spring", "2026-11-19T10:00:00Z"),
		ev("e04", "v04", "appointment_booked", "facebook", "spring", "2026-11-19T10:00:00Z"),
		ev("e05", "v07", "appointment_booked", "facebook", "spring", "2026-11-19T11:00:00Z"),       // before the withdrawal
		ev("e06", "v07", "contact_form_submitted", "facebook", "spring", "2026-11-19T13:00:00Z"),   // after it: no_consent
		ev("e07", "v08", "appointment_booked", "facebook", "spring", "2026-11-19T10:00:00Z"),       // never consented
		ev("e08", "v01", "appointment_booked", "facebook", "spring", "2026-11-19T10:30:00Z"),       // over_bound
		ev("e02", "v02", "appointment_booked", "facebook", "spring", "2026-11-19T10:00:00Z"),       // duplicate
		ev("e09", "v03", "lab_result", "facebook", "spring", "2026-11-19T10:00:00Z"),               // unmapped_event
		ev("e10", "v05", "appointment_booked", "facebook", "spring 2026!", "2026-11-19T10:00:00Z"), // bad_campaign
		ev("e11", "v01", "contact_form_submitted", "google", "autumn", "2026-11-19T10:00:00Z"),
		ev("e12", "v04", "appointment_booked", "google", "winter", "2026-11-19T10:00:00Z"),
		ev("e13", "v05", "appointment_booked", "google", "winter", "2026-11-19T10:00:00Z"),
		ev("e14", "v06", "appointment_booked", "google", "winter", "2026-11-19T10:00:00Z"),
	}
	day2 := []string{
		ev("e21", "v01", "appointment_booked", "facebook", "spring", "2026-11-20T10:00:00Z"),
		ev("e22", "v02", "appointment_booked", "facebook", "spring", "2026-11-20T10:00:00Z"),
		ev("e23", "v03", "appointment_booked", "facebook", "spring", "2026-11-20T10:00:00Z"),
		ev("e24", "v02", "contact_form_submitted", "google", "autumn", "2026-11-20T10:00:00Z"),
		ev("e25", "v04", "appointment_booked", "tiktok", "", "2026-11-20T10:00:00Z"),
		ev("e26", "v06", "appointment_booked", "", "", "2026-11-20T10:00:00Z"),
		ev("e31", "v05", "appointment_booked", "facebook", "spring", "2026-11-21T01:00:00Z"),
	}
	tally(0, "ingest", write(t, filepath.Join(dir, "day1.ndjson"), strings.Join(day1, "\n")+"\n"))
	tally(0, "ingest", write(t, filepath.Join(dir, "day2.ndjson"), strings.Join(day2, "\n")+"\n"))
	tally(0, "rollup")
	if out := tally(0, "upload"); !strings.Contains(out, "meta: 8 sent") {
		t.Fatalf("upload: %s", out)
	}
	site := filepath.Join(dir, "site")
	if err := os.Mkdir(site, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(site, "index.html"), `<html><head><script>fbq('init', '123456789012345');</script></head><body>Book</body></html>`)
	tally(1, "scan", site) // exit 1: a tracker was found, and recorded
	tally(0, "spend", "import", write(t, filepath.Join(dir, "spend.csv"), "day,platform,campaign,spend,currency\n"+
		"2026-11-19,meta,spring,12.50,EUR\n2026-11-20,meta,spring,7.50,EUR\n2026-11-20,google,summer,3,EUR\n"))
	return cfgPath, dbPath
}

// docBlock is one fenced code block of the guide and the heading above it.
type docBlock struct {
	heading, lang, text string
	line                int
}

func readSchemaDoc(t *testing.T) (string, []docBlock) {
	t.Helper()
	b, err := os.ReadFile(schemaDocPath)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var cur *docBlock
	heading := ""
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.HasPrefix(line, "```"):
			cur = &docBlock{heading: heading, lang: strings.TrimPrefix(line, "```"), line: n}
		case strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: code block never closed", schemaDocPath, cur.line)
	}
	return string(b), blocks
}

var namedParam = regexp.MustCompile(`:([a-z_]+)\b`)

// docRows runs one query of the guide, binding the named parameters it
// uses, and returns its rows as column -> text.
func docRows(t *testing.T, db *sql.DB, blk docBlock) []map[string]string {
	t.Helper()
	var args []any
	seen := map[string]bool{}
	for _, m := range namedParam.FindAllStringSubmatch(stripSQLStrings(blk.text), -1) {
		name := m[1]
		if seen[name] {
			continue
		}
		seen[name] = true
		v, ok := schemaDocParams[name]
		if !ok {
			t.Fatalf("%s:%d %q: parameter :%s has no test value", schemaDocPath, blk.line, blk.heading, name)
		}
		args = append(args, sql.Named(name, v))
	}
	rows, err := db.QueryContext(context.Background(), blk.text, args...)
	if err != nil {
		t.Errorf("%s:%d %q: %v", schemaDocPath, blk.line, blk.heading, err)
		return nil
	}
	cols, all := sqlfile.All(t, rows)
	var out []map[string]string
	for _, vals := range all {
		row := map[string]string{}
		for i, c := range cols {
			switch v := vals[i].(type) {
			case nil:
				row[c] = "NULL"
			case []byte:
				row[c] = string(v)
			default:
				row[c] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	return out
}

// stripSQLStrings blanks out '...' literals so a time like '12:00' is not
// taken for a parameter.
func stripSQLStrings(q string) string {
	return regexp.MustCompile(`'[^']*'`).ReplaceAllString(q, "''")
}

// hasRow reports whether some row holds every key/value of want.
func hasRow(rows []map[string]string, want map[string]string) bool {
	return slices.ContainsFunc(rows, func(r map[string]string) bool {
		for k, v := range want {
			if r[k] != v {
				return false
			}
		}
		return true
	})
}

// schemaDocChecks are the expected answers of the key queries on the
// fixture of buildSchemaDocDB, by heading. Every other query must run and
// return at least one row.
var schemaDocChecks = map[string][]map[string]string{
	"(a) Intake outcomes on one day": {
		{"outcome": "accepted", "reason": "", "count": "9"},
		{"outcome": "dropped", "reason": "no_consent", "count": "2"},
		{"outcome": "dropped", "reason": "over_bound", "count": "1"},
		{"outcome": "dropped", "reason": "unmapped_event", "count": "1"},
		{"outcome": "dropped", "reason": "bad_campaign", "count": "1"},
		{"outcome": "duplicate", "reason": "", "count": "1"},
	},
	"(a) Events in and drops per day": {
		{"day": "2026-11-19", "received": "15", "accepted": "9", "duplicates": "1", "invalid": "0", "dropped": "5"},
		{"day": "2026-11-20", "received": "6", "accepted": "6", "dropped": "0"},
	},
	"(a) Stored events per cell on one day": {
		{"platform": "meta", "campaign": "spring", "conversion": "booking", "events": "5"},
		{"platform": "google", "campaign": "winter", "conversion": "booking", "events": "3"},
	},
	"(a) Recount a sealed day by hand": {
		{"platform": "meta", "campaign": "spring", "conversion": "booking", "raw_count": "5", "events_now": "5"},
		{"platform": "google", "campaign": "autumn", "conversion": "lead", "raw_count": "1", "events_now": "1"},
	},
	"(a) Days, sealed or open": {
		{"day": "2026-11-19", "salt": "deleted", "contribution_table": "0"},
		{"day": "2026-11-21", "sealed_at": "NULL", "salt": "present", "contribution_table": "1"},
	},
	"(a) Running counts of open days": {
		{"day": "2026-11-21", "platform": "meta", "campaign": "spring", "events": "1"},
	},
	"(b) Consent choices per day": {
		{"utc_day": "2026-11-18", "purpose": "advertising", "grants": "7", "withdrawals": "0", "visitors": "7"},
		{"utc_day": "2026-11-19", "purpose": "advertising", "grants": "0", "withdrawals": "1", "visitors": "1"},
	},
	"(b) Consent history of one visitor": {
		{"time": "2026-11-18T09:00:00.000Z", "choice": "granted", "source": "cmp-x", "version": "policy-v3"},
		{"time": "2026-11-19T12:00:00.000Z", "choice": "withdrawn"},
	},
	"(c) What was released per campaign on one day": {
		{"platform": "meta", "campaign": "spring", "conversion": "booking", "raw_count": "5", "released_count": "5", "status": "released"},
		{"platform": "google", "campaign": "autumn", "conversion": "lead", "total": "1", "released_count": "0", "status": "held"},
	},
	"(c) Released per campaign over a period": {
		{"platform": "meta", "campaign": "spring", "conversion": "booking", "released": "8", "days_released": "2"},
		{"platform": "google", "campaign": "autumn", "conversion": "lead", "released": "0", "days_held": "1", "days_suppressed": "1"},
	},
	"(c) Held and suppressed cells": {
		{"day": "2026-11-20", "platform": "google", "campaign": "autumn", "carried_in": "1", "total": "2", "status": "suppressed"},
		{"day": "2026-11-20", "platform": "tiktok", "campaign": "", "status": "held"},
	},
	"(c) Gate parameters per sealed day": {
		{"day": "2026-11-19", "gate_min_count": "3", "gate_small_counts": "carry", "gate_carry_days": "1", "gate_noise": "none", "cells": "3"},
	},
	"(c) Privacy receipts against the gate and the intake": {
		{"day": "2026-11-19", "min_count": "3", "gate_min_count": "3", "noise": "none", "gate_noise": "none", "visitor_bound": "10", "intake_bound": "10"},
	},
	"(d) Delivery state per cell": {
		{"day": "2026-11-19", "platform": "meta", "campaign": "spring", "count": "5", "acked": "5", "state": "sent"},
		{"day": "2026-11-20", "platform": "meta", "campaign": "spring", "count": "3", "acked": "3", "state": "sent"},
	},
	"(d) Released but not delivered": {
		{"day": "2026-11-19", "platform": "google", "campaign": "winter", "released_count": "3", "upload_state": "NULL"},
	},
	"(d) Every request sent to one platform and its answer": {
		{"id": "1", "method": "POST", "conversions": "8", "attempt": "1", "status": "200", "error": "NULL"},
	},
	"(d) Which conversions each request carried": {
		{"request_id": "1", "day": "2026-11-19", "campaign": "spring", "first_index": "0", "n": "5", "status": "200", "cell_state": "sent"},
		{"request_id": "1", "day": "2026-11-20", "campaign": "spring", "first_index": "0", "n": "3", "status": "200", "cell_state": "sent"},
	},
	"(c) Spend and cost per conversion per campaign": {
		{"platform": "meta", "campaign": "spring", "currency": "EUR", "spend": "20.00", "released": "8", "cost_per_conversion": "2.50"},
		{"platform": "google", "campaign": "summer", "spend": "3.00", "released": "0", "cost_per_conversion": "NULL"},
	},
	"Tracker scans and what they found": {
		{"scan_id": "1", "findings": "1", "tracker": "meta_pixel", "tracker_id": "123456789012345"},
	},
	"The audit log": {
		{"id": "1", "kind": "key_fingerprint"},
		{"id": "2", "kind": "consent_import"},
		{"id": "3", "kind": "intake"},
	},
	"`key_fingerprint`": {
		{"fingerprint": store.KeyFingerprint([]byte(schemaDocSecret))},
	},
	"Check the chain links": {
		{"first_bad_row": "NULL"},
	},
	"Schema version": {
		{"user_version": fmt.Sprint(store.SchemaVersion())},
	},
	"Purged days": {
		{"day": "2026-11-19", "events": "9"},
		{"day": "2026-11-20", "events": "6"},
	},
}

// afterRetention are the queries that need a purge; they run last.
var afterRetention = map[string]bool{"Purged days": true}

func TestSchemaDocQueries(t *testing.T) {
	cfg, dbPath := buildSchemaDocDB(t)
	_, blocks := readSchemaDoc(t)
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var queries []docBlock
	headings := map[string]bool{}
	for _, b := range blocks {
		if b.lang != "sql" {
			continue
		}
		if headings[b.heading] {
			t.Errorf("%s:%d: two sql blocks under %q; give each its own heading", schemaDocPath, b.line, b.heading)
		}
		headings[b.heading] = true
		queries = append(queries, b)
	}
	for h := range schemaDocChecks {
		if !headings[h] {
			t.Errorf("%s: no sql block under the heading %q", schemaDocPath, h)
		}
	}

	check := func(q docBlock) {
		t.Helper()
		// The reader pool is query_only: a query that writes fails here.
		rows := docRows(t, sqlfile.Open(t, db.Path), q)
		if len(rows) == 0 {
			t.Errorf("%s:%d %q: no rows", schemaDocPath, q.line, q.heading)
			return
		}
		for _, want := range schemaDocChecks[q.heading] {
			if !hasRow(rows, want) {
				t.Errorf("%s:%d %q: no row with %v; got %v", schemaDocPath, q.line, q.heading, want, rows)
			}
		}
		if q.heading == "Check the chain links" && len(rows) == 1 && rows[0]["rows_checked"] == "0" {
			t.Errorf("%q: checked no rows", q.heading)
		}
		if q.heading == "Recompute each row's hash" {
			for _, r := range rows {
				sum := sha256.Sum256([]byte(r["hashed_text"]))
				if hex.EncodeToString(sum[:]) != r["hash"] {
					t.Errorf("audit row %s: sha256 of the documented text is not the stored hash", r["id"])
				}
			}
		}
		// The canonical text the guide prints must hash to what the audit
		// entry recorded.
		canonical := map[string]struct{ entry, what string }{
			"Check a sealed day's rows against its seal": {fmt.Sprintf(`SELECT json_extract(detail, '$.daily_counts_sha256') FROM audit_log
				WHERE kind = 'rollup' AND json_extract(detail, '$.day') = '%s'`, schemaDocParams["day"]), "the seal's daily_counts_sha256"},
			"Check the spend table against its last import": {`SELECT json_extract(detail, '$.spend_sha256') FROM audit_log
				WHERE kind = 'spend_import' ORDER BY id DESC LIMIT 1`, "the last import's spend_sha256"},
		}
		if c, ok := canonical[q.heading]; ok {
			var text strings.Builder
			for _, r := range rows {
				text.WriteString(r["canonical_row"] + "\n")
			}
			var want string
			sqlfile.Open(t, db.Path).QueryRow(c.entry).Scan(&want)
			if sum := sha256.Sum256([]byte(text.String())); hex.EncodeToString(sum[:]) != want {
				t.Errorf("%q: sha256 of the documented text (%d rows) is not %s %q", q.heading, len(rows), c.what, want)
			}
		}
		if q.heading == "(d) Audit entries of one request" {
			var body, response string
			if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT body, response FROM upload_requests WHERE id = 1`).Scan(&body, &response); err != nil {
				t.Fatal(err)
			}
			bodySum, respSum := sha256.Sum256([]byte(body)), sha256.Sum256([]byte(response))
			for _, want := range []map[string]string{
				{"kind": "upload_request", "body_sha256": hex.EncodeToString(bodySum[:])},
				{"kind": "upload_answer", "status": "200", "response_sha256": hex.EncodeToString(respSum[:])},
			} {
				if !hasRow(rows, want) {
					t.Errorf("%q: no row with %v; got %v", q.heading, want, rows)
				}
			}
		}
		if q.heading == "(d) The exact body of one request" && (len(rows) != 1 || !strings.Contains(rows[0]["body"], `"event_id"`) ||
			strings.Contains(rows[0]["body"], fakeSecrets["TALLY_META_TOKEN"])) {
			t.Errorf("%q: want request 1's body, without the token; got %v", q.heading, rows)
		}
	}
	for _, q := range queries {
		if !afterRetention[q.heading] {
			check(q)
		}
	}

	t.Run("sqlite3 shell", func(t *testing.T) {
		// Auditors paste these into the stock shell: run them there too,
		// with the parameters set the way the guide says.
		shell, err := exec.LookPath("sqlite3")
		if err != nil {
			t.Skip("sqlite3 not installed")
		}
		var set strings.Builder
		set.WriteString(".bail on\n")
		for k, v := range schemaDocParams {
			if s, ok := v.(string); ok {
				fmt.Fprintf(&set, ".param set :%s \"'%s'\"\n", k, s)
			} else {
				fmt.Fprintf(&set, ".param set :%s %v\n", k, v)
			}
		}
		for _, q := range queries {
			if afterRetention[q.heading] {
				continue
			}
			cmd := exec.Command(shell, "-readonly", dbPath)
			cmd.Stdin = strings.NewReader(set.String() + q.text)
			out, err := cmd.CombinedOutput()
			if err != nil || len(out) == 0 || strings.Contains(string(out), "Error") {
				t.Errorf("%s:%d %q in sqlite3: %v\n%s", schemaDocPath, q.line, q.heading, err, out)
			}
		}
	})

	t.Run("tampering", func(t *testing.T) {
		if code, out, stderr := runTally(t, "--config", cfg, "audit", "verify"); code != 0 {
			t.Fatalf("audit verify on the intact chain: exit %d %s%s", code, out, stderr)
		}
		shScript := func() string {
			for _, b := range blocks {
				if b.lang == "sh" && b.heading == "Recompute each row's hash by hand" {
					return strings.ReplaceAll(b.text, "tally.db", "'"+dbPath+"'")
				}
			}
			t.Fatalf("%s: no sh block under \"Recompute each row's hash by hand\"", schemaDocPath)
			return ""
		}()
		runSh := func() string {
			for _, tool := range []string{"bash", "sqlite3", "sha256sum"} {
				if _, err := exec.LookPath(tool); err != nil {
					t.Skipf("%s not installed", tool)
				}
			}
			out, err := exec.Command("bash", "-c", shScript).CombinedOutput()
			if err != nil {
				t.Fatalf("hash script: %v\n%s", err, out)
			}
			return string(out)
		}
		if out := runSh(); out != "" {
			t.Errorf("hash script on the intact chain printed %q", out)
		}
		// Go around the triggers as a tamperer would: edit row 1, delete row 2.
		for _, stmt := range []string{
			`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`,
			`UPDATE audit_log SET detail = '{"invalid":0,"recorded":0,"skipped":0}' WHERE id = 1`,
			`DELETE FROM audit_log WHERE id = 2`,
		} {
			if _, err := sqlfile.Open(t, db.Path).Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range queries {
			if q.heading == "Check the chain links" {
				if rows := docRows(t, sqlfile.Open(t, db.Path), q); len(rows) != 1 || rows[0]["first_bad_row"] != "3" {
					t.Errorf("%q after deleting row 2: %v, want first_bad_row 3", q.heading, rows)
				}
			}
		}
		if out := runSh(); out != "row 1: content does not match its hash\n" {
			t.Errorf("hash script after editing row 1 printed %q", out)
		}
		if code, _, _ := runTally(t, "--config", cfg, "audit", "verify"); code != 1 {
			t.Errorf("audit verify after tampering: exit %d, want 1", code)
		}
	})

	// Past retention (35 days), the events go and purges says so.
	setWallClock(t, "2026-12-31T00:00:00Z") // --now ahead of the real date
	if code, out, stderr := runTally(t, "--config", cfg, "--now", "2026-12-30T04:00:00Z", "rollup"); code != 0 || !strings.Contains(out, "purged") {
		t.Fatalf("rollup past retention: exit %d\n%s%s", code, out, stderr)
	}
	for _, q := range queries {
		if afterRetention[q.heading] {
			check(q)
		}
	}
}

// TestSchemaDocCoversTheSchema fails when a table or column of a fresh
// database (every migration applied) is not documented in its section.
func TestSchemaDocCoversTheSchema(t *testing.T) {
	doc, _ := readSchemaDoc(t)
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "tally.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A day's contribution table exists only while the day is open.
	tables := map[string][]string{"contrib_YYYYMMDD": {"key"}}
	rows, err := sqlfile.Open(t, db.Path).Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		cols, err := sqlfile.Open(t, db.Path).Query(`SELECT name FROM pragma_table_info(?)`, n)
		if err != nil {
			t.Fatal(err)
		}
		for cols.Next() {
			var c string
			if err := cols.Scan(&c); err != nil {
				t.Fatal(err)
			}
			tables[n] = append(tables[n], c)
		}
		cols.Close()
	}
	if len(tables) < 15 {
		t.Fatalf("found only %d tables: %v", len(tables), tables)
	}
	for table, cols := range tables {
		start := strings.Index(doc, "\n### `"+table+"`\n")
		if start < 0 {
			t.Errorf("%s: no section \"### `%s`\"", schemaDocPath, table)
			continue
		}
		section := doc[start+1:]
		if end := strings.Index(section[4:], "\n#"); end >= 0 {
			section = section[:end+4]
		}
		for _, c := range cols {
			// A column row starts "| `col` |", or lists it among others: "| `day`, `platform` … |".
			if !regexp.MustCompile("(?m)^\\| (`[a-z_]+`, )*`" + c + "`[ ,]").MatchString(section) {
				t.Errorf("%s: table %s: column %s is not documented in its section", schemaDocPath, table, c)
			}
		}
	}
}
