//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// workerFiles returns the stats files of the demo's workers in dir, by
// PID (the totals file left out).
func workerFiles(t *testing.T, dir string) map[int]string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "mmstats-demo-*-*.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, p := range m {
		var pid, tid int
		if _, err := fmt.Sscanf(filepath.Base(p), "mmstats-demo-%d-%d.mmstats", &pid, &tid); err == nil {
			out[pid] = p
		}
	}
	return out
}

// While pollstats runs over the directory of a demo, a worker exits
// cleanly (its SIGTERM handler removes its file, folding it into the
// totals file) and another is killed with SIGKILL, its file then folded
// by cleanstats. The lines still add up to exactly the requests the test
// had answered, and no line counts more than had been answered when it
// was printed: no count lost, none counted twice.
func TestLinesSurviveWorkerChurn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "3")
	clean := testutil.Binary(t, "cmd/cleanstats")
	p := testutil.Start(t, nil, bin(t), "-vv", "-n", "0", "-d", "0.1", "-p", "web.stats.status", "2XX", dir)
	if h := p.Line(t, 10*time.Second); strings.TrimSpace(h) != "2XX" { // printed after the first read
		t.Fatalf("header %q", h)
	}

	// The lines, each with the requests answered when it was read.
	var answered atomic.Int64
	type line struct {
		v        float64
		answered int64
	}
	var mu sync.Mutex
	var lines []line
	stopRead := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			select {
			case l := <-p.Lines:
				v, err := strconv.ParseFloat(strings.TrimSpace(l), 64)
				if err != nil {
					t.Errorf("line %q is not a number", l)
					continue
				}
				mu.Lock()
				lines = append(lines, line{v, answered.Load()})
				mu.Unlock()
			case <-stopRead:
				return
			}
		}
	}()
	send := func(n int) {
		for range n {
			resp, err := client.Get(d.URL + "/")
			if err != nil {
				t.Errorf("GET /: %v", err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				answered.Add(1)
			}
		}
	}
	pause := func() { time.Sleep(300 * time.Millisecond) } // a few lines

	send(40)
	// A clean exit at once, what the worker counted since the last line
	// not shown yet: it folds its own file and removes it.
	files := workerFiles(t, dir)
	var pids []int
	for pid := range files {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	if len(pids) != 3 {
		t.Fatalf("worker files %v, want 3", files)
	}
	if err := syscall.Kill(pids[0], syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return !testutil.Exists(t, files[pids[0]]) },
		func() string { return files[pids[0]] + " still there after SIGTERM" })
	client.CloseIdleConnections()
	send(40)
	// A crash, just as well: the file stays, counted as a dead file, until cleanstats
	// folds it.
	if err := syscall.Kill(pids[1], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	client.CloseIdleConnections()
	send(40)
	pause()
	if r := testutil.Run(t, nil, clean, "-q", dir); r.Code != 0 {
		t.Fatalf("cleanstats: exit %d: %s", r.Code, r.Stderr)
	}
	if testutil.Exists(t, files[pids[1]]) {
		t.Fatalf("cleanstats left the killed worker's file %s", files[pids[1]])
	}
	if !testutil.Exists(t, filepath.Join(dir, "mmstats-demo-totals.mmstats")) {
		t.Fatal("no totals file after the folds")
	}
	send(40)
	time.Sleep(time.Second) // the last changes shown
	close(stopRead)
	<-readDone
	p.Cmd.Process.Signal(os.Interrupt)
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("pollstats: %v; stderr: %s", err, p.Stderr())
	}

	want := answered.Load()
	if want != 160 {
		t.Fatalf("%d requests of 160 answered 200", want)
	}
	var sum float64
	mu.Lock()
	defer mu.Unlock()
	for i, l := range lines {
		sum += l.v
		// A request in flight (one at a time) may be counted before it
		// is answered.
		if sum > float64(l.answered+1) {
			t.Errorf("line %d: %v counted by then, %d requests answered: a spike", i, sum, l.answered)
		}
	}
	if sum != float64(want) {
		t.Errorf("the lines add up to %v, want the %d requests answered: %v; stderr:\n%s", sum, want, lines, p.Stderr())
	}
	if len(lines) < 10 {
		t.Errorf("only %d lines", len(lines))
	}
}
