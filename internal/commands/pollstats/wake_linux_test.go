package pollstats

import (
	"testing"
	"time"
)

// TestFDTimer checks that Linux's timer is the timerfd's, that it waits
// on the runtime's timers once its reads failed, and that close ends its
// goroutine and its descriptor.
func TestFDTimer(t *testing.T) {
	tm, ok := newTimer().(*fdTimer)
	if !ok {
		t.Fatal("newTimer is not the timerfd's")
	}
	fired(t, tm.after(time.Millisecond))
	tm.broken.Store(true) // as after a read that failed: the runtime's timers
	fired(t, tm.after(time.Millisecond))
	tm.broken.Store(false)
	tm.close() // returns once the goroutine has ended
	select {
	case <-tm.done:
	default:
		t.Error("close returned before the goroutine ended")
	}
	if err := tm.f.Close(); err == nil {
		t.Error("the descriptor is still open after close")
	}
}
