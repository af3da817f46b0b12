package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// TestVacuumIntoLeavesFreedPagesBehind: rows deleted from the database
// whose pages were freed without being zeroed (here by a connection
// without secure_delete, as an older tally or sqlite3 would leave them)
// are in tally.db, and not in the copy VacuumInto writes. The copy passes
// the integrity check and has the same audit chain.
func TestVacuumIntoLeavesFreedPagesBehind(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	if err := db.AppendAudit(ctx, "test", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	marker := []byte("freed-page-marker-7f3a9c")
	c := sqlfile.Open(t, db.Path)
	for _, stmt := range []string{
		"PRAGMA secure_delete = OFF",
		"CREATE TABLE junk (b BLOB)",
		// Enough rows to fill many pages, which DROP frees.
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) " +
			"INSERT INTO junk SELECT CAST('" + string(marker) + "' AS BLOB) || randomblob(64) FROM n",
		"DROP TABLE junk",
		"PRAGMA wal_checkpoint(TRUNCATE)",
	} {
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	raw, err := os.ReadFile(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, marker) {
		t.Fatal("the freed rows are not in tally.db: the test would prove nothing")
	}

	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := db.VacuumInto(ctx, dest); err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(copied, marker) {
		t.Error("the copy holds rows deleted before it was made")
	}
	b, err := store.OpenReadOnly(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	_, head, err := b.VerifyAudit(ctx)
	_, want, werr := db.VerifyAudit(ctx)
	if err != nil || werr != nil || head != want {
		t.Errorf("copy's chain head %s (%v), want %s (%v)", head, err, want, werr)
	}
}

// TestVacuumIntoRefusesAnExistingFile: SQLite writes only into a file that
// does not exist or is empty, so a backup never overwrites another one.
func TestVacuumIntoRefusesAnExistingFile(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := db.VacuumInto(ctx, dest); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(dest)
	if err := db.VacuumInto(ctx, dest); err == nil {
		t.Fatal("VacuumInto wrote over an existing database")
	}
	after, _ := os.ReadFile(dest)
	if !bytes.Equal(before, after) {
		t.Error("the existing file changed")
	}
}

// TestIntegrityCheckFindsCorruption: a page overwritten with garbage is
// reported, not passed as "ok".
func TestIntegrityCheckFindsCorruption(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	if err := db.AppendAudit(ctx, "test", map[string]any{"pad": strings.Repeat("x", 20000)}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := db.VacuumInto(ctx, dest); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	// Point the audit row's last overflow page at a page that does not
	// exist: its first four bytes are the next page's number. The header
	// and schema stay intact, so the file still opens.
	const pageSize = 4096
	last := bytes.LastIndex(raw, []byte("xxxxxxxx"))
	if last < 0 {
		t.Fatal("the audit row is not in the copy")
	}
	page := last / pageSize * pageSize
	copy(raw[page:page+4], []byte{0x7f, 0xff, 0xff, 0xff})
	if err := os.WriteFile(dest, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := store.OpenReadOnly(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.IntegrityCheck(ctx); err == nil {
		t.Error("integrity check passed a scribbled file")
	}
}
