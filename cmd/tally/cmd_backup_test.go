package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/store"
)

// answers are the report commands' outputs on one database.
func answers(t *testing.T, cfg, dbPath string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, args := range [][]string{
		{"audit", "verify"},
		{"export", "--from", "2026-11-16", "--to", "2026-11-18"},
		{"export", "--format", "json", "--from", "2026-11-16", "--to", "2026-11-18"},
		{"audit", "recount", "--date", "2026-11-16"},
		{"audit", "recount", "--date", "2026-11-18"},
	} {
		code, stdout, stderr := runTally(t, append([]string{"--config", cfg, "--db", dbPath}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
		out[strings.Join(args, " ")] = stdout
	}
	return out
}

// TestBackupRestoreGivesTheSameAnswers: back up a database with sealed
// days and an upload ledger, delete the original (with its -wal and -shm),
// put the backup in its place, and `audit verify`, `export` and `audit
// recount` answer exactly as they did on the original.
func TestBackupRestoreGivesTheSameAnswers(t *testing.T) {
	cfg, dbPath, _ := auditedRun(t)
	before := answers(t, cfg, dbPath)
	dest := filepath.Join(t.TempDir(), "tally-backup.db")
	code, out, errOut := runTally(t, "--config", cfg, "backup", dest)
	if code != 0 || !regexp.MustCompile(`^backup: .*tally-backup\.db \([0-9]+ bytes, sha256 [0-9a-f]{64}, audit head [0-9]+:[0-9a-f]{64}\), checked\n$`).MatchString(out) {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	if _, logged, _ := runTally(t, "--config", cfg, "audit", "log"); !strings.Contains(logged, "backup") || !strings.Contains(logged, dest) {
		t.Errorf("the original's audit log does not record the backup:\n%s", logged)
	}

	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dbPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	after := answers(t, cfg, dbPath)
	for cmd, want := range before {
		if after[cmd] != want {
			t.Errorf("%s after the restore:\n%s\nwant, as before the backup:\n%s", cmd, after[cmd], want)
		}
	}
	// The restored file is a working database: a run on it succeeds.
	if code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T13:00:00Z", "run"); code != 0 {
		t.Errorf("run on the restored database: exit %d\n%s%s", code, out, errOut)
	}
}

// TestBackupRefusesBadDestinations: an existing DEST is a usage error and
// is left as it was; so is a DEST in a folder that does not exist, and a
// database that does not exist (nothing is created). A folder tally may
// not write to fails (exit 1) and leaves nothing.
func TestBackupRefusesBadDestinations(t *testing.T) {
	cfg, _, _ := auditedRun(t)
	dir := t.TempDir()
	existing := write(t, filepath.Join(dir, "existing.db"), "keep me")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"existing file", []string{"--config", cfg, "backup", existing}, exitUsage, "exists; a backup never replaces a file"},
		{"missing folder", []string{"--config", cfg, "backup", filepath.Join(dir, "no", "b.db")}, exitUsage, "no such directory"},
		{"no database", []string{"--config", cfg, "--db", filepath.Join(dir, "none.db"), "backup", filepath.Join(dir, "b.db")}, exitUsage, "no database at"},
		{"no destination", []string{"--config", cfg, "backup"}, exitUsage, "accepts 1 arg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTally(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d (want %d), want %q\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("the existing file now holds %q", b)
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Errorf("folder holds %v, want only existing.db", names)
	}
	if os.Geteuid() != 0 { // root writes into a read-only folder anyway
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runTally(t, "--config", cfg, "backup", filepath.Join(ro, "b.db"))
		if code != exitFailure || !strings.Contains(errOut, "permission denied") {
			t.Errorf("read-only folder: exit %d, want 1 naming the permission\n%s%s", code, out, errOut)
		}
		if names := dirEntries(t, ro); len(names) != 0 {
			t.Errorf("read-only folder holds %v", names)
		}
	}
}

// TestBackupOfAnEditedDatabaseFails: a backup is checked as `audit verify`
// checks: a database whose data no longer agrees with its audit chain, or
// whose chain was edited, gets no backup (exit 1, naming the problem), and
// nothing is left in the folder.
func TestBackupOfAnEditedDatabaseFails(t *testing.T) {
	cfg, dbPath, _ := auditedRun(t)
	for _, tt := range []tamper{
		{"released count raised", []string{`DROP TRIGGER daily_counts_no_update`,
			`UPDATE daily_counts SET released_count = 1200, total = 1200 WHERE day = '2026-11-17'`}, "daily_counts 2026-11-17"},
		{"audit row edited", []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET detail = '{}' WHERE id = 2`},
			"audit chain: audit_log row 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cp := tamperedCopy(t, dbPath, tt.stmts...)
			dir := t.TempDir()
			code, out, errOut := runTally(t, "--config", cfg, "--db", cp, "backup", filepath.Join(dir, "b.db"))
			if code != exitFailure || !strings.Contains(errOut, "the copy failed its check") || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d (want 1), want the check's failure naming %q\n%s%s", code, tt.want, out, errOut)
			}
			if names := dirEntries(t, dir); len(names) != 0 {
				t.Errorf("folder holds %v after a failed backup", names)
			}
		})
	}
}

// TestBackupNeverMigrates: a database older than the binary's schema (a
// new tally installed before the backup the upgrade steps ask for) is
// refused with exit 2 and left at its version, so the old tally can still
// open it; nothing is written at DEST.
func TestBackupNeverMigrates(t *testing.T) {
	cfg, dbPath, _ := auditedRun(t)
	old := store.SchemaVersion() - 1
	cp := tamperedCopy(t, dbPath, fmt.Sprintf("PRAGMA user_version = %d", old))
	dir := t.TempDir()
	code, out, errOut := runTally(t, "--config", cfg, "--db", cp, "backup", filepath.Join(dir, "b.db"))
	if code != exitUsage || !strings.Contains(errOut, "does not migrate it") {
		t.Errorf("exit %d (want 2), want the schema named\n%s%s", code, out, errOut)
	}
	var v int
	if err := sqlfile.Open(t, cp).QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != old {
		t.Errorf("user_version = %d (%v), want %d: the backup migrated the database", v, err, old)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("folder holds %v after a refused backup", names)
	}
}

// TestBackupHoldsNoSealedDaySecrets: a backup taken while a day is open
// holds its salt (the check can see it); once the day is sealed, a backup
// holds neither its salt nor any of its 3600 contribution keys. Both are
// taken while `tally serve` has the file open and keeps taking events, and
// both pass their own checks.
func TestBackupHoldsNoSealedDaySecrets(t *testing.T) {
	o := openDayServed(t)
	dbPath := filepath.Join(o.dir, "tally.db")
	secrets := sealedDaySecrets(t, dbPath, o.day)
	backup := func(name string) []byte {
		t.Helper()
		// Intake goes on while the backup is written: another process
		// writing to the same file.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o.post("/v1/events", map[string]any{"events": []any{map[string]any{"event_id": name + "-" + time.Now().String(),
					"event": "appointment_booked", "visitor_id": "visitor-1", "source": "facebook", "campaign": "today"}}})
			}
		}()
		dest := filepath.Join(o.dir, name)
		code, out, errOut := runIn(t, o.dir, o.env, "--config", o.cfgPath, "backup", dest)
		close(stop)
		wg.Wait()
		if code != 0 {
			t.Fatalf("backup %s: exit %d\n%s%s", name, code, out, errOut)
		}
		raw, err := os.ReadFile(dest)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	open := backup("open.db")
	if !bytes.Contains(open, secrets[0].b) {
		t.Fatal("the open day's salt is not in a backup taken while it was open: the test would prove nothing")
	}
	code, out, errOut := runIn(t, o.dir, o.env, "--config", o.cfgPath, "--now", time.Now().UTC().Format(time.RFC3339), "rollup")
	if code != 0 || !strings.Contains(out, "sealed "+o.day+": 1800 events") {
		t.Fatalf("rollup: exit %d\n%s%s", code, out, errOut)
	}
	sealed := backup("sealed.db")
	leaks := map[string]int{}
	for _, s := range secrets {
		if bytes.Contains(sealed, s.b) {
			leaks[s.kind]++
		}
	}
	for kind, n := range leaks {
		t.Errorf("PRIVACY LEAK: %d x %s of sealed day %s in a backup taken after the seal", n, kind, o.day)
	}
}

// TestRunTakesBackupsAndKeepsTheLastN: with [backup] dir and keep = 2,
// each successful run ends with a backup there (printed), and only the two
// newest stay. A backup.dir that does not exist is a configuration error
// found before the run does anything.
func TestRunTakesBackupsAndKeepsTheLastN(t *testing.T) {
	f := newFakePlatforms(t)
	cfg, dbPath := pipelineFixture(t, f.URL, "2026-11-19T12:00:00Z", "2026-11-16", "2026-11-17", "2026-11-18")
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	write(t, cfg, string(base)+"[backup]\ndir = \"nowhere\"\nkeep = 2\n")
	code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T13:00:00Z", "run")
	if code != exitUsage || !strings.Contains(out+errOut, "backup.dir: "+filepath.Join(filepath.Dir(dbPath), "nowhere")+" is not a directory") {
		t.Fatalf("missing backup.dir: exit %d, want 2\n%s%s", code, out, errOut)
	}
	if _, logged, _ := runTally(t, "--config", cfg, "audit", "log"); strings.Contains(logged, "run_config") {
		t.Fatalf("the run with a missing backup.dir did something:\n%s", logged)
	}

	backups := filepath.Join(filepath.Dir(dbPath), "backups")
	if err := os.Mkdir(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, cfg, string(base)+"[backup]\ndir = \"backups\"\nkeep = 2\n")
	for i := 0; i < 3; i++ {
		code, out, errOut := runTally(t, "--config", cfg, "--now", "2026-11-19T13:00:00Z", "run")
		if code != 0 || !strings.Contains(out, "backup: "+backups+"/tally-") || !strings.Contains(out, "run: ok") {
			t.Fatalf("run %d: exit %d\n%s%s", i, code, out, errOut)
		}
	}
	names := dirEntries(t, backups)
	if len(names) != 2 {
		t.Fatalf("backups folder holds %v, want the 2 newest", names)
	}
	_, logged, _ := runTally(t, "--config", cfg, "audit", "log")
	if n := strings.Count(logged, "backup "); n < 3 {
		t.Errorf("%d backup entries in the audit log, want 3:\n%s", n, logged)
	}
	if !strings.Contains(logged, filepath.Join(backups, names[1])) {
		t.Errorf("the audit log does not name the newest backup %s", names[1])
	}
}

// dirEntries lists the files in dir, hidden ones (a backup's temporary
// files) included.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}
