package job

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

// Backup writes checked backups of a database: `tally backup DEST`, and a
// run's last step when [backup] dir is set.
type Backup struct {
	DB  *store.DB
	Log *slog.Logger
}

// Backed is one backup written and checked.
type Backed struct {
	Path   string
	Bytes  int64
	SHA256 string
	// Head is the backup's audit chain head: the backup holds the chain up
	// to it, and the database's own backup entry comes after it.
	Head store.Anchor
}

// To writes a backup to dest, which must not exist: a backup never
// replaces a file. The copy is written under a temporary name beside dest
// (a killed backup leaves no file at dest), synced, checked (integrity
// check, audit chain, the data against the chain), and only then linked
// to dest. The database records an audit entry naming it, its size, hash
// and chain head.
func (b Backup) To(ctx context.Context, dest string) (Backed, error) {
	res := Backed{Path: dest}
	if abs, err := filepath.Abs(dest); err == nil {
		res.Path = abs
	}
	// A file named like the database's own log would be read as its log.
	// SQLite keeps the logs of a database opened through a symlink beside
	// the file it points at: both names count, and DEST's folder may be
	// reached through a symlink too.
	target := res.Path
	if dir, err := filepath.EvalSymlinks(filepath.Dir(res.Path)); err == nil {
		target = filepath.Join(dir, filepath.Base(res.Path))
	}
	for _, db := range databaseNames(b.DB.Path) {
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if res.Path == db+suffix || target == db+suffix {
				return res, tally.WithKind(tally.KindUsage, fmt.Errorf("backup: %s is where SQLite keeps the database's %s file: name another", dest, suffix[1:]))
			}
		}
	}
	if dest == "" || os.IsPathSeparator(dest[len(dest)-1]) {
		// A name ending in a separator is a folder: the copy would be
		// made, checked, and then fail to take the name.
		return res, tally.WithKind(tally.KindUsage, fmt.Errorf("backup: %s names a folder: name the new file, such as %s", dest, filepath.Join(dest, "tally-backup.db")))
	}
	if fi, err := os.Lstat(dest); err == nil && fi.IsDir() {
		return res, tally.WithKind(tally.KindUsage, fmt.Errorf("backup: %s is a folder: name a new file in it, such as %s", dest, filepath.Join(dest, "tally-backup.db")))
	} else if err == nil {
		return res, existsErr(dest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("backup: %w", err)
	}
	dir := filepath.Dir(res.Path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return res, tally.WithKind(tally.KindUsage, fmt.Errorf("backup: %s: no such directory", dir))
	}
	// CreateTemp makes the file 0600: a backup holds the consent registry
	// and the open days' salts, like the database itself.
	f, err := os.CreateTemp(dir, "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	f.Close()
	placed := false
	defer func() {
		if !placed {
			os.Remove(tmp)
		}
	}()
	if err := b.DB.VacuumInto(ctx, tmp); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	if res.Head, err = checkBackup(ctx, tmp); err != nil {
		return res, fmt.Errorf("backup: the copy failed its check, nothing was written to %s: %w", dest, err)
	}
	if res.Bytes, res.SHA256, err = syncAndHash(tmp); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	if err := placeNew(tmp, dest); err != nil {
		return res, err
	}
	placed = true
	syncDir(dir)
	err = b.DB.AppendAudit(context.WithoutCancel(ctx), store.AuditBackup, map[string]any{
		"file": res.Path, "bytes": res.Bytes, "sha256": res.SHA256, "audit_head": res.Head.String(),
	})
	if err != nil {
		return res, fmt.Errorf("backup: %s written, but its audit entry was not: %w", dest, err)
	}
	return res, nil
}

// databaseNames is the database's absolute path and, when it is a
// symlink, the absolute path of the file it points at.
func databaseNames(path string) []string {
	var names []string
	if abs, err := filepath.Abs(path); err == nil {
		names = append(names, abs)
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		if abs, err := filepath.Abs(real); err == nil {
			names = append(names, abs)
		}
	}
	return names
}

func existsErr(dest string) error {
	return tally.WithKind(tally.KindUsage, fmt.Errorf("backup: %s exists; a backup never replaces a file: name a new one", dest))
}

// checkBackup opens the copy read-only and checks it as `tally audit
// verify` would, plus SQLite's integrity check. It returns the copy's
// chain head.
func checkBackup(ctx context.Context, path string) (store.Anchor, error) {
	db, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return store.Anchor{}, err
	}
	defer db.Close()
	if err := db.IntegrityCheck(ctx); err != nil {
		return store.Anchor{}, err
	}
	n, head, err := db.VerifyAudit(ctx)
	if err != nil {
		return store.Anchor{}, fmt.Errorf("audit chain: %w", err)
	}
	data, err := db.VerifyData(ctx)
	if err != nil {
		return store.Anchor{}, err
	}
	if len(data.Problems) > 0 {
		return store.Anchor{}, fmt.Errorf("%d problem(s) in the data, first: %s", len(data.Problems), data.Problems[0])
	}
	return store.Anchor{ID: n, Hash: head}, nil
}

// syncAndHash flushes the file to disk and returns its size and SHA-256.
func syncAndHash(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	if err := f.Sync(); err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// placeNew gives tmp the name dest without ever replacing a file there: a
// hard link fails when dest exists, where a rename would overwrite it.
func placeNew(tmp, dest string) error {
	err := os.Link(tmp, dest)
	if errors.Is(err, fs.ErrExist) {
		return existsErr(dest)
	}
	if err != nil {
		// A filesystem without hard links: check again, then rename.
		if _, serr := os.Lstat(dest); serr == nil {
			return existsErr(dest)
		}
		if err := os.Rename(tmp, dest); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		return nil
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// syncDir flushes a directory's entries (the new name) to disk. Not every
// OS can open a directory for that; the backup is in place either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Rotation is [backup]: a backup into Dir after each successful run,
// keeping the Keep newest.
type Rotation struct {
	Dir  string
	Keep int
}

// rotated names the backups a rotation writes and removes: the wall-clock
// UTC time they were taken, so names sort by age.
var rotated = regexp.MustCompile(`^tally-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z\.db$`)

// partial names the temporary file of a rotated backup (To's, which
// os.CreateTemp completes with digits), and the rollback journal SQLite
// keeps beside it while VACUUM INTO writes it.
var partial = regexp.MustCompile(`^\.tally-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z\.db\.partial-[0-9]+(-journal)?$`)

// staleAfter is how old a temporary file left by a killed backup must be
// before a rotation removes it (a younger one may be a backup under way).
const staleAfter = time.Hour

// Rotate writes a backup into r.Dir, then removes all but the r.Keep
// newest backups there, and temporary files left by killed backups.
// Nothing else in the directory is touched.
func (b Backup) Rotate(ctx context.Context, r Rotation) (Backed, error) {
	now := time.Now().UTC()
	res, err := b.To(ctx, filepath.Join(r.Dir, "tally-"+now.Format("20060102T150405.000Z")+".db"))
	if err != nil {
		return res, err
	}
	return res, b.prune(r, now, filepath.Base(res.Path))
}

// prune removes all but the r.Keep newest rotated backups in r.Dir, and
// stale temporary files of killed backups. taken, the backup just
// written, is always one of those kept: names sort by the wall clock,
// and a backup named while the clock was ahead would otherwise sort after
// it and get it removed.
func (b Backup) prune(r Rotation, now time.Time, taken string) error {
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return fmt.Errorf("backup: prune %s: %w", r.Dir, err)
	}
	var backups, remove []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == taken:
		case rotated.MatchString(name):
			backups = append(backups, name)
		case partial.MatchString(name) && stale(e, now):
			remove = append(remove, name)
		}
	}
	slices.Sort(backups)
	if keep := max(r.Keep-1, 0); len(backups) > keep {
		remove = append(remove, backups[:len(backups)-keep]...)
	}
	for _, name := range remove {
		if err := os.Remove(filepath.Join(r.Dir, name)); err != nil {
			return fmt.Errorf("backup: prune: %w", err)
		}
		b.Log.Info("old backup removed", "file", filepath.Join(r.Dir, name), "keep", r.Keep)
	}
	return nil
}

// stale reports whether e is a file last written over staleAfter ago: a
// backup that is no longer being written.
func stale(e fs.DirEntry, now time.Time) bool {
	fi, err := e.Info()
	return err == nil && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) > staleAfter
}

// PrintBackup writes one line naming a backup written and what it holds.
func PrintBackup(w io.Writer, b Backed) {
	fmt.Fprintf(w, "backup: %s (%d bytes, sha256 %s, audit head %s), checked\n", termsafe.String(b.Path), b.Bytes, b.SHA256, b.Head)
}
