package job

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/tally-health/tally/store"
)

// LockOptions identify this process as a lock holder ("host/pid"), and
// recognise a holder on this host whose process is gone (killed, crashed),
// so a rerun need not wait for the lock to expire.
func LockOptions() store.LockOptions {
	return store.LockOptions{Owner: LockOwner(), Dead: lockOwnerDead}
}

// LockOwner names this process as a lock holder: "host/pid".
func LockOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// lockOwnerDead reports whether owner names a process on this host that no
// longer exists. An owner on another host, or one it cannot parse, is
// presumed alive: only expiry frees its lock.
func lockOwnerDead(owner string) bool {
	host, pidText, ok := strings.Cut(owner, "/")
	me, _ := os.Hostname()
	if !ok || host != me {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	return processGone(pid)
}
