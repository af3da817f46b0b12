package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
	"github.com/tally-health/tally/job"
	"github.com/tally-health/tally/store"
)

func newBackupCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "backup DEST",
		Short: "Write a checked, compacted copy of the database to DEST (a new file)",
		Long: `Write a consistent copy of the database to DEST with SQLite's VACUUM INTO:
one snapshot, taken while intake and runs go on, rebuilt from the live rows
only, so it holds no write-ahead log and no freed pages (a sealed day's salt
and contribution keys are not in it). The copy is written under a temporary
name beside DEST, checked (SQLite's integrity check, the audit chain, and
the data against the chain, as 'tally audit verify' does), and only then
named DEST; an audit entry records its path, size, SHA-256 and chain head.

DEST must not exist: a backup never replaces a file (exit 2). A database
older than this tally's schema is refused (exit 2), never migrated: take
the backup before an upgrade, with the tally that wrote the file. The copy
holds the consent registry and the open days' salts, like the database:
it is created readable by tally's user only. It does not hold the hashing
key (store.key_file or TALLY_SECRET): keep that apart from the backups.
To restore, see docs/OPERATIONS.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.load()
			if err != nil {
				return err
			}
			// Open would create an empty database: there is nothing to back up.
			if _, err := os.Stat(e.cfg.Store.Path); errors.Is(err, fs.ErrNotExist) {
				return usageErr(fmt.Errorf("backup: no database at %s (store.path or --db)", e.cfg.Store.Path))
			}
			// A backup copies the file as the tally that wrote it left it:
			// migrating it first would leave no copy an older tally can open.
			db, err := e.auditClock(store.Open(cmd.Context(), e.cfg.Store.Path, store.Options{Synchronous: e.cfg.Store.Synchronous, NoMigrate: true}))
			if err != nil {
				return fmt.Errorf("backup: %w: back it up with the tally that wrote it, before an upgrade (docs/OPERATIONS.md)", err)
			}
			defer db.Close()
			b, err := job.Backup{DB: db, Log: e.log}.To(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			job.PrintBackup(e.stdout, b)
			return nil
		},
	}
}
