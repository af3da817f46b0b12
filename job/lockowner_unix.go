//go:build unix

package job

import (
	"errors"
	"syscall"
)

// processGone reports whether no process pid exists: signal 0 checks
// existence without sending anything.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
