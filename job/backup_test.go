package job

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// TestBackupRecordsWhatItWrote: the backup is private to tally's user, its
// audit entry names its path, size and SHA-256 as they are on disk and
// its chain head, and no temporary file is left beside it.
func TestBackupRecordsWhatItWrote(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	if err := db.AppendAudit(ctx, "test", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dest := filepath.Join(dir, "b.db")
	b, err := Backup{DB: db, Log: quiet}.To(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if b.Bytes != int64(len(raw)) || b.SHA256 != hex.EncodeToString(sum[:]) || b.Head.ID != 1 {
		t.Errorf("backed %+v, want %d bytes, sha256 %x, head 1", b, len(raw), sum)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"b.db"}) {
		t.Errorf("folder holds %v, want only b.db", names)
	}
	var got map[string]any
	err = db.AuditEntries(ctx, "", func(e store.AuditEntry) error {
		if e.Kind == store.AuditBackup {
			return json.Unmarshal([]byte(e.Detail), &got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["file"] != dest || got["sha256"] != b.SHA256 || got["audit_head"] != b.Head.String() || got["bytes"] != float64(b.Bytes) {
		t.Errorf("audit entry %v, want it to name %s and %+v", got, dest, b)
	}
}

// TestBackupRefusesAndLeavesNothing: an existing DEST (even empty) is a
// usage error and stays as it was; so are a missing folder, a folder (an
// existing one, or a name ending in a separator), and the names of the
// database's own -wal and -journal files; a cancelled backup leaves
// no file, temporary or not.
func TestBackupRefusesAndLeavesNothing(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{existing, filepath.Join(dir, "missing", "b.db"), db.Path + "-wal", db.Path + "-journal",
		dir, filepath.Join(dir, "new") + string(filepath.Separator)} {
		if _, err := (Backup{DB: db, Log: quiet}).To(ctx, dest); tally.KindOf(err) != tally.KindUsage {
			t.Errorf("backup to %s: %v, want a usage error", dest, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (Backup{DB: db, Log: quiet}).To(cancelled, filepath.Join(dir, "b.db")); err == nil {
		t.Error("a cancelled backup succeeded")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"existing.db"}) {
		t.Errorf("folder holds %v, want only the untouched existing.db", names)
	}
	if fi, _ := os.Stat(existing); fi.Size() != 0 {
		t.Error("the existing file was written to")
	}
}

// TestBackupRefusesTheLogNamesOfASymlinkedDatabase: SQLite keeps the
// -wal, -shm and -journal of a database opened through a symlink beside
// the file it points at, so those names are refused there, also when
// DEST's folder is reached through a symlink.
func TestBackupRefusesTheLogNamesOfASymlinkedDatabase(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	ctx := context.Background()
	real := storetest.Open(t)
	link := filepath.Join(t.TempDir(), "tally.db")
	if err := os.Symlink(real.Path, link); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, link, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dataLink := filepath.Join(t.TempDir(), "data")
	if err := os.Symlink(filepath.Dir(real.Path), dataLink); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{real.Path + "-journal", real.Path + "-wal", filepath.Join(dataLink, filepath.Base(real.Path)+"-journal")} {
		if _, err := (Backup{DB: db, Log: quiet}).To(ctx, dest); tally.KindOf(err) != tally.KindUsage || !strings.Contains(fmt.Sprint(err), "where SQLite keeps") {
			t.Errorf("backup to %s: %v, want a usage error naming SQLite's file", dest, err)
		}
	}
	if _, err := os.Stat(real.Path + "-journal"); err == nil {
		t.Error("a file was written at the database's -journal")
	}
}

// TestRotateKeepsTheNewest: a rotation keeps the Keep newest backups,
// removes the older ones and the temporary files of backups killed over an
// hour ago, and touches nothing else in the folder.
func TestRotateKeepsTheNewest(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{
		"tally-20200101T000000.000Z.db", "tally-20200102T000000.000Z.db", // older backups
		".tally-20200103T000000.000Z.db.partial-123", // killed long ago
		".tally-20200103T000000.000Z.db.partial-123-journal",
		".tally-20200104T000000.000Z.db.partial-456", // maybe being written (recent)
		"notes.txt", "tally-manual.db", // not the rotation's
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if name != ".tally-20200104T000000.000Z.db.partial-456" {
			if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := Backup{DB: db, Log: quiet}.Rotate(ctx, Rotation{Dir: dir, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".tally-20200104T000000.000Z.db.partial-456", "notes.txt", "tally-20200102T000000.000Z.db",
		filepath.Base(b.Path), "tally-manual.db"}
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("after the rotation the folder holds\n%v, want\n%v", got, want)
	}
}

// TestRotateNeverRemovesTheBackupItTook: a backup named by a clock that
// was ahead (then corrected) sorts after every later one; with keep = 1 a
// rotation must still keep the backup it has just taken, not remove it as
// the oldest and report success with no fresh backup left.
func TestRotateNeverRemovesTheBackupItTook(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	dir := t.TempDir()
	ahead := filepath.Join(dir, "tally-20990101T000000.000Z.db")
	if err := os.WriteFile(ahead, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Backup{DB: db, Log: quiet}.Rotate(ctx, Rotation{Dir: dir, Keep: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.Path); err != nil {
		t.Errorf("the backup just taken is gone: %v; folder holds %v", err, dirNames(t, dir))
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{filepath.Base(b.Path)}) {
		t.Errorf("folder holds %v, want only the backup just taken", got)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
