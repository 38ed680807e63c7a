//go:build unix

package pollstats

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestLoopRunsOnOneP checks that the loop runs with GOMAXPROCS at
// steadyProcs, and that Run gives back what it found.
func TestLoopRunsOnOneP(t *testing.T) {
	dir := t.TempDir()
	newWriter(t, dir, "a.mmstats")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // more than steadyProcs, wherever the test runs
	var during []int
	h := newHarness(t, func() { during = append(during, runtime.GOMAXPROCS(0)) }, func() { during = append(during, runtime.GOMAXPROCS(0)) })
	if code := h.run("-c", "2", "-p", status, "2XX", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if len(during) != 2 || during[0] != steadyProcs || during[1] != steadyProcs {
		t.Errorf("GOMAXPROCS in the loop %v, want %d", during, steadyProcs)
	}
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS after the run %d, want 2 as before", got)
	}
}

// TestTimers checks what the loop needs of a timer, of the runtime's and
// of the system's (newTimer): it fires once d has passed, at once for d
// <= 0, an arming replaces the one before, and an expiry that was not
// received does not fire the next wait.
func TestTimers(t *testing.T) {
	for name, newT := range map[string]func() timer{
		"runtime": func() timer { return newRuntimeTimer() },
		"system":  newTimer,
	} {
		t.Run(name, func(t *testing.T) {
			tm := newT()
			defer tm.close()
			for _, d := range []time.Duration{time.Millisecond, 0, -time.Second} {
				start := time.Now()
				fired(t, tm.after(d))
				if took := time.Since(start); took < d {
					t.Errorf("after(%v) fired after %v", d, took)
				}
			}
			tm.after(time.Hour)
			fired(t, tm.after(time.Millisecond)) // not an hour: replaced

			// An expiry not received (a signal came first) is dropped by
			// the next arming.
			c := tm.after(0)
			for deadline := time.Now().Add(time.Minute); len(c) == 0 && cap(c) > 0 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			c = tm.after(time.Hour)
			select {
			case <-c:
				t.Error("a wait of an hour fired at once: the expiry before it was kept")
			case <-time.After(20 * time.Millisecond):
			}
		})
	}
}

// fired fails the test if c does not fire within a minute (a timer that
// never fires: the loop would hang).
func fired(t *testing.T, c <-chan time.Time) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(time.Minute):
		t.Fatal("the timer never fired")
	}
}

// TestHotIntervalAllocatesNothing: an interval of the hot loop over
// counters (the line formatted and written included) allocates nothing,
// so that the collector never runs while pollstats runs.
func TestHotIntervalAllocatesNothing(t *testing.T) {
	dir := t.TempDir()
	var ws []*writer
	for i := range 8 {
		ws = append(ws, newWriter(t, dir, fmt.Sprintf("w%d.mmstats", i)))
	}
	o := &Options{Prefix: "web.stats", Fields: []string{"status.2XX", "status.5XX"}, Args: []string{dir}, Delay: time.Second}
	p := quietPoller(t, o)
	v := newView(o, p)
	now := time.Now().Add(2 * racyWindow) // past the directory's racy window
	for range 3 {
		v.line(now)
	}
	allocs := testing.AllocsPerRun(2*hotUpdateEvery, func() {
		for _, w := range ws {
			w.OK.Inc()
		}
		now = now.Add(time.Second)
		v.line(now)
	})
	if p.hot != hotOn {
		t.Fatal("the intervals were not hot")
	}
	if allocs != 0 {
		t.Errorf("%v allocations an interval", allocs)
	}
}
