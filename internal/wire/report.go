package wire

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/report"
	"github.com/tally-health/tally/store"
)

// minReportToken is the shortest token accepted for GET /report: the page
// is open to anyone who guesses it.
const minReportToken = 16

// ReportHandler is GET /report over db as [report] describes it, or nil
// when report.enabled is false. An enabled report needs its token, from
// the variable report.token_env names or the file report.token_file
// names, at least 16 characters long: the server never serves the report
// unprotected.
func ReportHandler(cfg *config.Config, db *store.DB, version string, now func() time.Time, log *slog.Logger) (*report.Handler, error) {
	if !cfg.Report.Enabled {
		return nil, nil
	}
	tok, err := cfg.Report.ReportToken().Read()
	if err != nil {
		return nil, configErr(err)
	}
	if n := len([]rune(tok.Reveal())); n < minReportToken {
		return nil, configErr(fmt.Errorf("config: report: the token has %d characters, want at least %d", n, minReportToken))
	}
	return &report.Handler{DB: db, Token: tok, Now: now, Log: log,
		Base: report.Options{Timezone: cfg.Rollup.Timezone, Version: version}}, nil
}
