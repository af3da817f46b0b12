package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/store"
)

func init() { register(newConsentCmd) }

// consentChunk is how many records are committed per transaction.
const consentChunk = 1000

func newConsentCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Manage the consent registry",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE",
		Short: "Import consent records (NDJSON, - for stdin) from a consent-management export",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.load()
			if err != nil {
				return err
			}
			return runConsentImport(cmd.Context(), e, args[0])
		},
	})
	return cmd
}

func runConsentImport(ctx context.Context, e *env, name string) error {
	db, err := e.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return err
	}
	defer in.Writer.Close()
	r, err := e.openInput(name)
	if err != nil {
		return fmt.Errorf("consent import: %w", err)
	}
	defer r.Close()
	var recorded, skipped, invalid int
	var batch []store.Consent
	flush := func() error {
		// A record repeating its visitor's latest state adds no row and is
		// not counted as recorded.
		n, err := db.RecordConsents(ctx, batch, e.now())
		if err != nil {
			return err
		}
		recorded += n
		batch = batch[:0]
		return nil
	}
	err = intake.ReadNDJSON(r, func(rec intake.Record) error {
		bad := func(err error) {
			invalid++
			fmt.Fprintf(e.stderr, "%s: line %d: %v\n", name, rec.Line, err)
		}
		if rec.Err != nil {
			bad(rec.Err)
			return nil
		}
		c, err := intake.DecodeConsent(rec.Raw)
		if err != nil {
			bad(err)
			return nil
		}
		if c.Source == "" {
			// "import" is on the default consent.sources: the record
			// says where it came from even when the export does not.
			c.Source = "import"
		}
		cr, ok, err := in.Pipeline.ConsentRecord(c, false)
		switch {
		case err != nil:
			bad(err)
		case !ok:
			skipped++
		default:
			batch = append(batch, cr)
			if len(batch) >= consentChunk {
				return flush()
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	fmt.Fprintf(e.stdout, "recorded %d, skipped %d (no %q purpose), invalid %d\n", recorded, skipped, e.cfg.Consent.Purpose, invalid)
	if err != nil {
		return fmt.Errorf("consent import %s: %w", name, err)
	}
	detail := map[string]int{"recorded": recorded, "skipped": skipped, "invalid": invalid}
	if err := db.AppendAudit(ctx, store.AuditConsentImport, detail); err != nil {
		return fmt.Errorf("consent import %s: %w", name, err)
	}
	return nil
}
