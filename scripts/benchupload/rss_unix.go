//go:build unix

package main

import (
	"os"
	"syscall"
)

// peakRSSMB is the finished process's peak resident set in MB (ru_maxrss
// is in KB on Linux).
func peakRSSMB(ps *os.ProcessState) float64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
