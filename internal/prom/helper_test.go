package prom

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// countJob counts its runs, and panics with panicWith if set.
type countJob struct {
	runs      atomic.Int32
	panicWith any
}

func (j *countJob) Run() {
	j.runs.Add(1)
	if j.panicWith != nil {
		panic(j.panicWith)
	}
}

// TestHelper: a Helper runs each job started once, on its one goroutine
// kept from job to job, gives a job's panic to Wait and goes on after
// it, and Close ends its goroutine.
func TestHelper(t *testing.T) {
	before := runtime.NumGoroutine()
	h := NewHelper()
	if n := runtime.NumGoroutine(); n != before+1 {
		t.Errorf("%d goroutines with a Helper, %d before", n, before)
	}
	var j countJob
	for range 100 {
		h.Start(&j)
		if r := h.Wait(); r != nil {
			t.Fatalf("Wait: %v", r)
		}
	}
	if n := j.runs.Load(); n != 100 {
		t.Errorf("%d runs of 100 jobs", n)
	}
	if n := runtime.NumGoroutine(); n != before+1 {
		t.Errorf("%d goroutines after 100 jobs, %d before the Helper", n, before)
	}
	bad := countJob{panicWith: "broken"}
	h.Start(&bad)
	if r := h.Wait(); r != "broken" {
		t.Errorf("Wait after a panic: %v", r)
	}
	h.Start(&j)
	if r := h.Wait(); r != nil || j.runs.Load() != 101 {
		t.Errorf("after a panic: Wait %v, %d runs", r, j.runs.Load())
	}
	// No allocation to hand a job over and wait for it.
	if n := testing.AllocsPerRun(100, func() { h.Start(&j); h.Wait() }); n != 0 {
		t.Errorf("Start and Wait: %v allocations", n)
	}
	h.Close()
	for start := time.Now(); runtime.NumGoroutine() > before; runtime.Gosched() {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
	}
}
