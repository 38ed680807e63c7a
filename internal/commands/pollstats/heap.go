package pollstats

import "runtime/debug"

// The heap. What pollstats holds is mostly its tracked files, which live
// as long as it does, and an interval allocates next to nothing (24 bytes at 100,000 files); the
// garbage is made at start (the paths converted for each open, the cold
// files read through a Snapshot, twice each). So the collector's
// headroom is kept small (a heap of 100 MiB grows to 125, not 200,
// before a collection), smaller still while pollstats starts, and what
// the start left behind is collected and given back to the system
// before the first interval, rather than collected during the first
// intervals.

// gcPercent is the collector's headroom while pollstats runs.
const gcPercent = 25

// startPercent is the collector's headroom while pollstats starts: the
// start's garbage is made while its live heap grows to its full size,
// the peak of its memory. At 100,000 files (61,434 mapped) the peak
// RssAnon is 45.8 MiB with 25, 43.6 MiB with 10 (the steady state's
// 43 MiB), for about 0.4 s more CPU in a start of 3 s.
const startPercent = 10

// lowHeadroom sets the headroom for the start, and returns what restores
// the caller's.
func lowHeadroom() func() {
	old := debug.SetGCPercent(startPercent)
	return func() { debug.SetGCPercent(old) }
}

// settleHeap collects the garbage of the start, with many files, and
// sets the headroom of the run.
func settleHeap(files int) {
	if files >= 1000 {
		debug.FreeOSMemory()
	}
	debug.SetGCPercent(gcPercent)
}
