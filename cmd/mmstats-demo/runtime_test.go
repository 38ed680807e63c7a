//go:build unix

package main

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestWorkersPublishRuntimeStats: each worker's file carries the Go
// runtime's stats and the process's (Options.Runtime), under the demo's
// label prefix, and under load they move: GC cycles, allocations, CPU
// time.
func TestWorkersPublishRuntimeStats(t *testing.T) {
	t.Parallel()
	d := startDemo(t, "--workers", "2", "--load", "--rate", "200", "--listen", "127.0.0.1:0")
	paths := waitFiles(t, d.Dir, 2)
	first := map[string]map[string]float64{}
	for _, p := range paths {
		first[p] = sums(t, []string{p})
		s := first[p]
		for _, l := range []string{"web.stats.go.gc.cycles.total", "web.stats.go.gc.heap.goal",
			"web.stats.go.gc.pauses.p99", "web.stats.go.sched.latencies.count", "web.stats.proc.cpu.user"} {
			if _, ok := s[l]; !ok {
				t.Errorf("%s: no %s", p, l)
			}
		}
		if s["web.stats.go.sched.goroutines"] < 1 || s["web.stats.go.memory.classes.total"] <= 0 {
			t.Errorf("%s: goroutines %v, memory %v", p, s["web.stats.go.sched.goroutines"], s["web.stats.go.memory.classes.total"])
		}
		if runtime.GOOS == "linux" && (s["web.stats.proc.rss"] <= 0 || s["web.stats.proc.threads"] < 1 || s["web.stats.proc.fds"] < 3) {
			t.Errorf("%s: rss %v, threads %v, fds %v", p, s["web.stats.proc.rss"], s["web.stats.proc.threads"], s["web.stats.proc.fds"])
		}
		stats, err := reader.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stats {
			if st.Label == "web.stats.go.gc.cycles.total" && st.Meta.Kind != reader.KindCounter {
				t.Errorf("%s: %s is a %s", p, st.Label, st.Meta.Kind)
			}
		}
	}
	for _, p := range paths {
		var now map[string]float64
		moved := func(l string) bool { return now[l] > first[p][l] }
		testutil.Eventually(t, 30*time.Second, func() bool {
			if _, err := os.Stat(p); err != nil {
				t.Fatal(err)
			}
			now = sums(t, []string{p})
			return moved("web.stats.go.gc.cycles.total") && moved("web.stats.go.gc.heap.allocs.bytes") &&
				moved("web.stats.go.sched.latencies.count") && moved("web.stats.proc.cpu.user")
		}, func() string {
			return fmt.Sprintf("%s: runtime stats did not all move under load: gc cycles %v -> %v, allocs %v -> %v, cpu %v -> %v", p,
				first[p]["web.stats.go.gc.cycles.total"], now["web.stats.go.gc.cycles.total"],
				first[p]["web.stats.go.gc.heap.allocs.bytes"], now["web.stats.go.gc.heap.allocs.bytes"],
				first[p]["web.stats.proc.cpu.user"], now["web.stats.proc.cpu.user"])
		})
	}
	d.Stop(t)
}
