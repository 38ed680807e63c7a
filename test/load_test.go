//go:build unix

package test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// TestLoad: 64 writer processes each count 10^6 increments, one Inc at a
// time, while pollstats and slurpstats read their files over and over.
// The readers never see a counter go down or past its end, and the final
// sums are exact: 64 × 10^6 by slurpstats --json and by the last line of
// pollstats -a.
func TestLoad(t *testing.T) {
	const writers, increments = 64, 1000000
	const total = uint64(writers) * increments
	dir := testutil.MemDir(t)
	bin := testwriter(t)
	pollBin := pollstats(t)
	slurpstats(t)

	// The readers start first, on a seed file (pollstats exits 1 when no
	// file matches); its counter is 0.
	seed := testutil.WriteFile(t, dir, "seed.mmstats", withCounter(t, 0))
	poll := start(t, nil, pollBin, "-a", "-d", "0.1", counterLabel, dir)
	if h := poll.line(t, time.Minute); strings.TrimSpace(h) != counterLabel {
		t.Fatalf("pollstats header %q", h)
	}
	var pollMu sync.Mutex
	var pollLines []uint64
	pollDone, pollFirst := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(pollDone)
		for l := range poll.Lines {
			v, err := strconv.ParseUint(strings.TrimSpace(l), 10, 64)
			if err != nil {
				t.Errorf("pollstats printed %q", l)
				return
			}
			pollMu.Lock()
			pollLines = append(pollLines, v)
			if len(pollLines) == 1 {
				close(pollFirst)
			}
			pollMu.Unlock()
			if v == total {
				return
			}
		}
	}()

	// slurpstats, again and again, while the writers count.
	stopSlurp, slurpFirst := make(chan struct{}), make(chan struct{})
	slurpDone := make(chan int)
	go func() {
		runs := 0
		defer func() { slurpDone <- runs }()
		last := map[string]uint64{}
		for {
			select {
			case <-stopSlurp:
				return
			default:
			}
			counters, r, err := slurpJSONErr(t, nil, dir)
			if runs++; runs == 1 {
				close(slurpFirst)
			}
			if err != nil {
				t.Error(err)
				return
			}
			if r.Code != 0 || r.Stderr != "" {
				t.Errorf("slurpstats during the load: exit %d, stderr %q", r.Code, r.Stderr)
			}
			for p, v := range counters {
				if v > increments || v < last[p] {
					t.Errorf("%s: counter %d after %d (end %d)", p, v, last[p], increments)
				}
				last[p] = v
			}
		}
	}()

	<-pollFirst
	<-slurpFirst

	// The writers print their path once they have counted.
	begin := time.Now()
	done := make(chan string, writers)
	procs := make([]*proc, writers)
	for w := range writers {
		procs[w] = start(t, nil, bin, "-dir", dir, "-name", fmt.Sprintf("w%02d.mmstats", w),
			"-counter", "0", "-increments", strconv.Itoa(increments))
		go func(p *proc) {
			select {
			case l := <-p.Lines:
				done <- l
			case <-p.Done():
				done <- ""
			}
		}(procs[w])
	}
	for range writers {
		if p := <-done; p == "" {
			t.Fatal("a writer exited before printing its path")
		}
	}
	counted := time.Since(begin)
	close(stopSlurp)
	slurpRuns := <-slurpDone

	counters, r := slurpJSON(t, nil, dir)
	var sum uint64
	for _, v := range counters {
		sum += v
	}
	if r.Code != 0 || len(counters) != writers+1 || sum != total {
		t.Errorf("slurpstats --json at the end: exit %d, %d files, sum %d; want %d files summing to %d", r.Code, len(counters), sum, writers, total)
	}

	select {
	case <-pollDone:
	case <-time.After(time.Minute):
		t.Errorf("pollstats did not print %d within a minute of the end", total)
	}
	if code := poll.stop(t); code != 0 {
		t.Errorf("pollstats: exit %d", code)
	}
	pollMu.Lock()
	defer pollMu.Unlock()
	for i := 1; i < len(pollLines); i++ {
		if pollLines[i] < pollLines[i-1] || pollLines[i] > total {
			t.Errorf("pollstats -a line %d: %d after %d", i, pollLines[i], pollLines[i-1])
		}
	}
	if n := len(pollLines); n == 0 || pollLines[n-1] != total {
		t.Errorf("pollstats -a lines: %v, want the last at %d", pollLines, total)
	}

	for _, p := range procs {
		p.CloseStdin()
	}
	for _, p := range procs {
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Errorf("testwriter: exit %d: %s", code, p.Stderr())
		}
	}
	os.Remove(seed)
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left after the writers exited", len(left))
	}
	t.Logf("result: %d writers × %d increments = %d, exact in slurpstats --json and pollstats -a; started and counted in %v while pollstats printed %d lines and slurpstats ran %d times",
		writers, increments, total, counted.Round(time.Millisecond), len(pollLines), slurpRuns)
}
