package wire_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/config"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/internal/wire"
)

// TestReportHandlerToken: no handler while the report is off; its token
// from report.token_env or from report.token_file (not both), at least 16
// characters, and no error ever holds it.
func TestReportHandlerToken(t *testing.T) {
	db := storetest.Open(t)
	cfg := config.Default()
	build := func() (bool, error) {
		h, err := wire.ReportHandler(cfg, db, "test", time.Now, nil)
		return h != nil, err
	}
	if on, err := build(); on || err != nil {
		t.Fatalf("report off: handler %v, %v", on, err)
	}
	cfg.Report.Enabled = true
	const token = "file-token-0123456789"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env, file, want string
	}{
		{"", "", "report.token_env: environment variable TALLY_REPORT_TOKEN is not set"},
		{"short-env", "", "has 9 characters, want at least 16"},
		{"env-token-0123456789", "", ""},
		{"", file, ""},
		{"env-token-0123456789", file, "report.token_file: is set and so is environment variable TALLY_REPORT_TOKEN"},
	} {
		t.Setenv("TALLY_REPORT_TOKEN", tc.env)
		cfg.Report.TokenFile = tc.file
		on, err := build()
		switch {
		case tc.want == "" && (err != nil || !on):
			t.Errorf("env %q, file %q: %v", tc.env, tc.file, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || tally.KindOf(err) != tally.KindConfig):
			t.Errorf("env %q, file %q: %v, want a config error with %q", tc.env, tc.file, err, tc.want)
		case err != nil && (strings.Contains(err.Error(), token) || (tc.env != "" && strings.Contains(err.Error(), tc.env))):
			t.Errorf("SECRET LEAK: the error holds the token: %v", err)
		}
	}
}
