package main

import "time"

// In-process tests judge platform windows like the test binary does
// (wallclock_tallytest.go); a test of the real wall clock sets windowClock
// itself.
func init() { windowClock = followNow }

// realWindows makes platform windows follow the wall clock, as in a
// release build, for one test.
func realWindows(t interface{ Cleanup(func()) }) {
	windowClock = func(e *env) func() time.Time { return e.wall }
	t.Cleanup(func() { windowClock = followNow })
}
