package pollstats

import "runtime/debug"

// The heap. What pollstats holds is mostly its tracked files, which live
// as long as it does, and an interval allocates next to nothing (24 bytes at 100,000 files); the
// garbage is made at start (the layouts parsed, the listings). So the
// collector's headroom is kept small (a heap of 100 MiB grows to 125,
// not 200, before a collection), and what the start left behind is
// collected and given back to the system before the first interval,
// rather than collected during the first intervals.

// gcPercent is the collector's headroom while pollstats runs.
const gcPercent = 25

// lowHeadroom sets the headroom for a run, and returns what restores it.
func lowHeadroom() func() {
	old := debug.SetGCPercent(gcPercent)
	return func() { debug.SetGCPercent(old) }
}

// settleHeap collects the garbage of the start, with many files.
func settleHeap(files int) {
	if files >= 1000 {
		debug.FreeOSMemory()
	}
}
