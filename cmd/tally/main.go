// Command tally measures ad campaigns without sending patient data to ad
// platforms. See README.md and DESIGN.md for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	// rollup.timezone names an IANA zone. The container image (FROM
	// scratch) and Windows hosts have no zone database; this embedded copy
	// (about 450 KB) is used only when the system has none.
	_ "time/tzdata"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/scan"
)

// Exit codes shared by every command.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitIncomplete  = 3 // scan found no tracker but cut a page or script at the byte cap
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and maps its error to an exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	// An unknown command is reported by cobra's Find before any hook of
	// ours runs; Find fails on these arguments only then.
	if _, _, ferr := root.Find(args); ferr != nil {
		err = usageErr(err)
	}
	code := exitCode(err)
	if code == exitInterrupted && ctx.Err() != nil {
		fmt.Fprintln(stderr, "tally: interrupted")
		return code
	}
	fmt.Fprintf(stderr, "tally: %s\n", termsafe.String(err.Error()))
	return code
}

// usageErr marks err as a usage error: bad flags or arguments (exit 2).
func usageErr(err error) error { return tally.WithKind(tally.KindUsage, err) }

// configErr marks err as a configuration error: the config, the key or a
// file it names (exit 2).
func configErr(err error) error { return tally.WithKind(tally.KindConfig, err) }

// failed reports a runtime failure whose details were already printed
// (exit 1 with a one-line message).
func failed(format string, args ...any) error {
	return tally.WithKind(tally.KindFailure, fmt.Errorf(format, args...))
}

// exitCode is the one place an error becomes an exit code.
func exitCode(err error) int {
	if errors.Is(err, scan.ErrIncomplete) {
		return exitIncomplete
	}
	switch tally.KindOf(err) {
	case tally.KindUsage, tally.KindConfig:
		return exitUsage
	case tally.KindInterrupted:
		return exitInterrupted
	default: // KindFailure, KindConflict
		return exitFailure
	}
}
