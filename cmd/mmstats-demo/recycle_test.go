//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// workersOf returns the PIDs of the supervisor's live children, its
// workers, from /proc (they change all the time under --max-requests).
func workersOf(t *testing.T, supervisor int) []int {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", supervisor))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f) // a thread that has exited: none
		for _, s := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(s); err == nil && alive(pid) {
				pids = append(pids, pid)
			}
		}
	}
	slices.Sort(pids)
	return slices.Compact(pids)
}

// loadPaths are what the test requests, one of each class per cycle.
var loadPaths = []struct{ path, class string }{
	{"/", "web.stats.status.2XX"},
	{"/redirect", "web.stats.status.3XX"},
	{"/nope", "web.stats.status.4XX"},
	{"/500", "web.stats.status.5XX"},
	{"/status", "web.stats.status.2XX"},
}

// sendRequests sends n GET requests to base from conc clients at once,
// cycling through loadPaths, and adds the answers to answered, by class.
// Every fifth request closes its connection, so that new connections
// reach every worker. A request that gets no answer (its worker was
// killed) is not counted, and returned as an error.
func sendRequests(base string, n, conc int, answered map[string]int) (failed []error) {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: conc},
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	for range conc {
		wg.Go(func() {
			for i := range next {
				p := loadPaths[i%len(loadPaths)]
				req, _ := http.NewRequest(http.MethodGet, base+p.path, nil)
				req.Close = i%5 == 4
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
					continue
				}
				resp.Body.Close()
				mu.Lock()
				answered["web.stats.status."+strconv.Itoa(resp.StatusCode/100)+"XX"]++
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return failed
}

// slurpTotal returns slurpstats --total's value of each status class over
// dir: the totals file plus the files it does not hold.
func slurpTotal(t *testing.T, dir string) map[string]int {
	t.Helper()
	res := testutil.Run(t, nil, testutil.Binary(t, "cmd/slurpstats"), "--total", "-o", "json", "-f", "web.stats.status.*", dir)
	if res.Code != 0 {
		t.Fatalf("slurpstats --total: exit %d: %s", res.Code, res.Stderr)
	}
	var out struct {
		Stats []struct {
			Label string
			Value float64
		}
	}
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("slurpstats --total -o json: %v\n%s", err, res.Stdout)
	}
	got := map[string]int{}
	for _, s := range out.Stats {
		got[s.Label] = int(s.Value)
	}
	return got
}

// entries returns the names of everything in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestMaxRequestsRecycles: with --max-requests, workers exit cleanly
// after that many requests and are replaced at once, many lifetimes over,
// without failing a request; one killed with -9 is replaced too. The requests the test counted as
// answered, by status class, equal exactly the totals file plus the live
// workers' files (and the killed worker's, until cleanstats folds it),
// and the directory holds no more than the live workers' files and the
// totals.
func TestMaxRequestsRecycles(t *testing.T) {
	t.Parallel()
	const workers, maxRequests, conc = 2, 10, 4
	d := startDemo(t, "--workers", strconv.Itoa(workers), "--max-requests", strconv.Itoa(maxRequests), "-v", "--listen", "127.0.0.1:0")
	answered := map[string]int{}
	check := func(when string) {
		t.Helper()
		if got := slurpTotal(t, d.Dir); !sameCounts(got, answered) {
			t.Errorf("%s: slurpstats --total %v, the test's answered requests %v", when, got, answered)
		}
	}

	// A worker recycled drops no request: it answers every one it has
	// accepted or read, and a client whose idle connection it closes
	// sends again (http.Server.Shutdown would drop some, with EOF).
	if failed := sendRequests(d.URL, 100, conc, answered); failed != nil {
		t.Errorf("%d requests failed, such as %v", len(failed), failed[0])
	}
	check("after 100 requests")

	// kill -9 a worker while no request is in flight: it is replaced, and
	// its counts stay in its dead file, which the totals still count. (A
	// worker that has just exited by itself, recycled, was not killed:
	// another is.)
	for try := 0; ; try++ {
		if try == 10 {
			t.Fatalf("no worker killed in 10 tries; stderr:\n%s", d.Stderr())
		}
		var victim int
		testutil.Eventually(t, 20*time.Second, func() bool {
			pids := workersOf(t, d.Cmd.Process.Pid)
			if len(pids) == workers {
				victim = pids[0]
			}
			return victim != 0
		}, func() string { return fmt.Sprintf("workers %v, want %d", workersOf(t, d.Cmd.Process.Pid), workers) })
		if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
			continue // exited and reaped meanwhile
		}
		killed := fmt.Sprintf("mmstats-demo: worker %d exited (signal: killed)", victim)
		recycled := fmt.Sprintf("mmstats-demo: worker %d exited cleanly", victim)
		testutil.Eventually(t, 20*time.Second, func() bool {
			return strings.Contains(d.Stderr(), killed) || strings.Contains(d.Stderr(), recycled)
		}, func() string { return fmt.Sprintf("worker %d killed: nothing said; stderr:\n%s", victim, d.Stderr()) })
		if strings.Contains(d.Stderr(), killed) {
			break
		}
	}
	testutil.Eventually(t, 20*time.Second, func() bool { return len(workersOf(t, d.Cmd.Process.Pid)) == workers },
		func() string {
			return fmt.Sprintf("workers %v after the kill, want %d", workersOf(t, d.Cmd.Process.Pid), workers)
		})
	check("after the kill")

	if failed := sendRequests(d.URL, 100, conc, answered); failed != nil {
		t.Errorf("%d requests failed, such as %v", len(failed), failed[0])
	}
	check("after 200 requests")
	sum := 0
	for _, n := range answered {
		sum += n
	}

	// Each clean lifetime answered between maxRequests and maxRequests +
	// conc requests (those in flight when it reached maxRequests); the
	// live ones fewer. So there were at least this many:
	lifetimes := strings.Count(d.Stderr(), " exited cleanly; started worker ")
	least := (sum - (workers+1)*(maxRequests+conc)) / (maxRequests + conc)
	t.Logf("%d requests answered, %d workers recycled after --max-requests %d, 1 killed", sum, lifetimes, maxRequests)
	if lifetimes < least || lifetimes > sum/maxRequests {
		t.Errorf("%d recycled workers for %d requests, want %d to %d; stderr:\n%s", lifetimes, sum, least, sum/maxRequests, d.Stderr())
	}
	// A recycled worker lives well under a second here: it is no crash,
	// replaced at once, not after the crash-loop guard's pause (only the
	// killed worker may have been).
	if n := strings.Count(d.Stderr(), " after starting; starting another in "); n > 1 {
		t.Errorf("%d workers replaced after a pause, want the killed one at most; stderr:\n%s", n, d.Stderr())
	}

	// cleanstats folds the killed worker's file: the live ones and the
	// totals are left, and the sum has not moved.
	if res := testutil.Run(t, nil, testutil.Binary(t, "cmd/cleanstats"), "-q", d.Dir); res.Code != 0 {
		t.Fatalf("cleanstats: exit %d: %s", res.Code, res.Stderr)
	}
	if names := entries(t, d.Dir); len(names) > workers+1 || !slices.Contains(names, totalsFile) {
		t.Errorf("after cleanstats, %s holds %v: want at most the %d workers' files and %s", d.Dir, names, workers, totalsFile)
	}
	check("after cleanstats")

	d.Stop(t)
	if names := entries(t, d.Dir); !slices.Equal(names, []string{totalsFile}) {
		t.Errorf("after the demo stopped, %s holds %v, want only %s", d.Dir, names, totalsFile)
	}
	check("after the demo stopped")
}

// sameCounts reports whether the counts are the same, a missing class
// counting as 0.
func sameCounts(a, b map[string]int) bool {
	for _, p := range loadPaths {
		if a[p.class] != b[p.class] {
			return false
		}
	}
	return true
}
