//go:build tallytest

package main

// The binary the tests build (-tags tallytest) judges platform windows by
// --now plus the time elapsed, so fixtures on fixed days stay inside the
// windows whatever the machine's date. Release builds never have this file.
func init() { windowClock = followNow }
