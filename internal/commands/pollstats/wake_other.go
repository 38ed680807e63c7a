//go:build !linux

package pollstats

// newTimer returns the runtime's timer: only Linux has a timerfd.
func newTimer() timer { return newRuntimeTimer() }
