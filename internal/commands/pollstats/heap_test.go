package pollstats

import (
	"runtime/debug"
	"testing"
)

// The start runs with the smaller headroom, the intervals with theirs,
// and the caller's is restored after.
func TestHeadroom(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	restore := lowHeadroom()
	if got := debug.SetGCPercent(startPercent); got != startPercent {
		t.Errorf("start: headroom %d, want %d", got, startPercent)
	}
	settleHeap(10)
	if got := debug.SetGCPercent(gcPercent); got != gcPercent {
		t.Errorf("run: headroom %d, want %d", got, gcPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after: headroom %d, want the caller's 100", got)
	}
}
