package pollstats

import (
	"runtime"
	"time"
)

// The wait between intervals. An interval over a thousand files is a
// few hundred microseconds of work once every delay; what the Go runtime
// does around it, waking threads to run it and to watch it, cost as much
// again. Three things keep that down:
//
//   - the wait is a timer of the system where there is one (a timerfd on
//     Linux, wake_linux.go), read through the runtime's poller: a
//     runtime timer wakes its thread up to a millisecond early and again
//     on time (the poller's waits are in whole milliseconds), and wakes
//     the runtime's monitor (sysmon) at the same instant, which then
//     polls every 20 µs until the interval is over; and
//   - the loop runs on one P (steadyProcs): nothing in it runs in
//     parallel, and with a second P each goroutine made ready wakes
//     another thread to look for work, which finds none; and
//   - the system calls of an interval that cannot wait (the timer's, the
//     look at a directory, the line when it can go out at once) are raw,
//     as a system call through the runtime wakes sysmon from its sleep
//     between intervals (out_linux.go).
//
// Context switches an interval at 1,000 files (perf stat), 11 before,
// 3 after: the poller's thread and sysmon's once each.

// timer is what the loop waits on: after returns a channel that fires
// once d has passed, replacing any wait armed before; close frees it.
type timer interface {
	after(d time.Duration) <-chan time.Time
	close()
}

// runtimeTimer is the timer of the Go runtime: one for the run, since
// time.After would make a timer and a channel every interval, garbage
// that the collector must come for.
type runtimeTimer struct{ t *time.Timer }

func newRuntimeTimer() *runtimeTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &runtimeTimer{t}
}

func (r *runtimeTimer) after(d time.Duration) <-chan time.Time {
	r.t.Reset(d) // a value not received (a signal came first) is dropped
	return r.t.C
}

func (r *runtimeTimer) close() { r.t.Stop() }

// steadyProcs is GOMAXPROCS while the loop runs (the start, which parses
// the files, runs with all of them).
const steadyProcs = 1

// steady sets GOMAXPROCS for the loop and returns what restores it.
func steady() func() {
	old := runtime.GOMAXPROCS(steadyProcs)
	return func() { runtime.GOMAXPROCS(old) }
}
