//go:build !unix

package main

import "os"

// peakRSSMB is not measured on this OS (no getrusage): it reports 0.
func peakRSSMB(*os.ProcessState) float64 { return 0 }
