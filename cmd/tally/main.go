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
	"strings"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
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
	code := exitCode(err)
	if code == exitInterrupted && ctx.Err() != nil {
		fmt.Fprintln(stderr, "tally: interrupted")
		return code
	}
	fmt.Fprintf(stderr, "tally: %s\n", termSafe(err.Error()))
	return code
}

// codeError carries an exit code with its error.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// usageErr marks err as a usage or configuration error (exit 2).
func usageErr(err error) error {
	if err == nil {
		return nil
	}
	return &codeError{code: exitUsage, err: err}
}

// failed reports a runtime failure whose details were already printed
// (exit 1 with a one-line message).
func failed(format string, args ...any) error {
	return &codeError{code: exitFailure, err: fmt.Errorf(format, args...)}
}

func exitCode(err error) int {
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	if strings.HasPrefix(err.Error(), "unknown command") {
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	return exitFailure
}
