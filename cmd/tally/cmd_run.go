package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/job"
)

func init() { register(newRunCmd) }

func newRunCmd(g *globalOptions) *cobra.Command {
	var lockWait time.Duration
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The cron job: seal every due day, upload everything pending, purge past retention",
		Long: `Seal every due, unsealed day (catching up days missed while the machine
was down), upload every released cell not yet acknowledged to the enabled
platforms, and purge events of sealed days past store.retention_days,
upload ledger bodies past store.ledger_retention_days and consent histories
past store.consent_retention_days. The log ends with the audit chain's head
(audit_head=ID:HASH): keep it to check the file later with
'tally audit verify --head'.
Only one of run, upload and rollup acts on a database at a time (a lock
held in SQLite; --lock-wait waits for it).
Exit 0 when everything is done, 1 when something failed (the output and
the log name the step; the uploads table says more), 2 on a configuration
or usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.load()
			if err != nil {
				return err // no logger yet: the error line says it all
			}
			db, err := e.openDB(cmd.Context())
			if err != nil {
				var res job.Result
				res.Print(e.stdout, e.log, res.Fail("open", err))
				return err
			}
			defer db.Close()
			res, err := e.runJob(cmd.Context(), db, lockWait)
			res.Print(e.stdout, e.log, err)
			return err
		},
	}
	lockWaitFlag(cmd, &lockWait)
	return cmd
}
