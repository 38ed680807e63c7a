//go:build linux

// Package churn holds the churn test of the totals files (issue 14): a
// prefork server's workers recycled hundreds of times and killed with -9
// under load, scraped by a real Prometheus, and no count lost or counted
// twice. It is a package of its own so that its minute of load runs
// beside the other packages' tests (go test runs packages in parallel),
// not after test/'s, which run one after another.
package churn

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
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

// The churn test's setup: the "Done when" (4 workers recycled
// every 200 requests for 60 s, hundreds of lifetimes).
const (
	churnWorkers     = 4
	churnMaxRequests = 200
	churnRun         = 60 * time.Second
	churnClients     = 8               // the test's concurrent clients
	churnRate        = 720             // requests per second, all clients together
	churnKills       = 5               // kill -9s, in the second half of the run
	churnClean       = 3 * time.Second // between cleanstats runs
	churnTotals      = "mmstats-demo-totals.mmstats"
)

// churnClasses are the demo's counters of answers by status class, as
// mmash --aggregate serves them.
var churnClasses = []string{"2XX", "3XX", "4XX", "5XX"}

// churnPaths is the cycle of paths the test's clients request: each
// status class, 2XX from two routes.
var churnPaths = []string{"/", "/redirect", "/", "/nope", "/status", "/500", "/", "/"}

// churnDemo is the mmstats-demo of the churn test, its mmash and the
// load the test puts on it.
type churnDemo struct {
	d  *testutil.Demo
	mm *testutil.Mmash
	// What the test's clients counted: answers by status class (2 to 5),
	// requests that got no answer, requests started, requests in flight.
	mu       sync.Mutex
	answered map[string]int
	failed   int
	started  atomic.Int64
	inFlight atomic.Int64
	// The kills: how many, and how many requests were in flight at them
	// (from the kill until the worker was gone).
	kills       int
	atKills     int64
	killsFailed []string
}

// instance is the demo's mmash as Prometheus's instance label has it.
func (c *churnDemo) instance() string { return strings.TrimPrefix(c.mm.URL, "http://") }

// load sends churnRate requests per second at the demo from churnClients
// clients until ctx is done, and waits for those in flight. It counts
// each answer by the class of its status; the client does not follow
// redirects, and closes its connection every tenth request so that new
// connections reach the new workers.
func (c *churnDemo) load(ctx context.Context) {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: churnClients},
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	defer client.CloseIdleConnections()
	interval := time.Second * churnClients / churnRate
	var wg sync.WaitGroup
	for i := range churnClients {
		wg.Go(func() {
			next := time.Now().Add(interval * time.Duration(i) / churnClients)
			for n := i; ; n += churnClients {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				next = next.Add(interval)
				if behind := time.Since(next); behind > time.Second {
					next = time.Now() // slow machine: no burst to catch up
				}
				req, err := http.NewRequest(http.MethodGet, c.d.URL+churnPaths[n%len(churnPaths)], nil)
				if err != nil {
					panic(err)
				}
				req.Close = n%10 == 9
				c.started.Add(1)
				c.inFlight.Add(1)
				resp, err := client.Do(req)
				c.inFlight.Add(-1)
				c.mu.Lock()
				if err != nil {
					c.failed++
				} else {
					resp.Body.Close()
					c.answered[strconv.Itoa(resp.StatusCode/100)+"XX"]++
				}
				c.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// kill kills a random worker with SIGKILL and waits until it is gone,
// adding the requests that were in flight meanwhile to c.atKills: only
// those can have been counted by the worker and not answered. A worker
// that had just exited by itself (recycled) was not killed: another is.
func (c *churnDemo) kill(t *testing.T) {
	for range 10 {
		pids := churnWorkersOf(c.d.Cmd.Process.Pid)
		if len(pids) == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		pid := pids[rand.IntN(len(pids))]
		inFlight, started := c.inFlight.Load(), c.started.Load()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			continue // exited and reaped meanwhile
		}
		for deadline := time.Now().Add(10 * time.Second); churnAlive(pid); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				c.killsFailed = append(c.killsFailed, fmt.Sprintf("worker %d still alive 10s after SIGKILL", pid))
				return
			}
		}
		during := inFlight + c.started.Load() - started
		// The supervisor says how it ended.
		killed := fmt.Sprintf("worker %d exited (signal: killed)", pid)
		recycled := fmt.Sprintf("worker %d exited cleanly", pid)
		var said string
		for deadline := time.Now().Add(10 * time.Second); said == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			switch stderr := c.d.Stderr(); {
			case strings.Contains(stderr, killed):
				said = killed
			case strings.Contains(stderr, recycled):
				said = recycled
			}
		}
		switch said {
		case "":
			c.killsFailed = append(c.killsFailed, fmt.Sprintf("the supervisor says nothing of worker %d, killed", pid))
			return
		case recycled:
			continue
		}
		c.kills++
		c.atKills += during
		t.Logf("killed worker %d with %d requests in flight", pid, during)
		return
	}
	c.killsFailed = append(c.killsFailed, "no worker killed in 10 tries")
}

// churnWorkersOf returns the live children of the supervisor.
func churnWorkersOf(supervisor int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", supervisor))
	var pids []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f) // a thread that has exited: none
		for _, s := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(s); err == nil && churnAlive(pid) {
				pids = append(pids, pid)
			}
		}
	}
	slices.Sort(pids)
	return slices.Compact(pids)
}

// churnAlive reports whether pid is a process that has not exited (a
// zombie has).
func churnAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// churnEntries returns the names of everything in dir.
func churnEntries(t *testing.T, dir string) []string {
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

// churnTotal returns slurpstats --total's value of each status class over
// dir: the totals file plus the files it does not hold.
func churnTotal(t *testing.T, dir string) map[string]int {
	t.Helper()
	res := testutil.Run(t, nil, testutil.Binary(t, "cmd/slurpstats"), "--total", "-o", "json", "-f", "web.stats.status.*", dir)
	if res.Code != 0 {
		// Not fatal: the test goes on to check resets() too.
		t.Errorf("slurpstats --total %s: exit %d: %s", dir, res.Code, res.Stderr)
		return map[string]int{}
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
		if class := strings.TrimPrefix(s.Label, "web.stats.status."); slices.Contains(churnClasses, class) {
			got[class] = int(s.Value)
		}
	}
	return got
}

// churnProm is the Prometheus server of the churn test.
type churnProm struct {
	url string
	p   *testutil.Process
}

// startChurnProm starts Prometheus on a free port of loopback, with its
// data in a temporary directory, scraping the targets (HOST:PORT) every
// second as job "churn". It gets SIGTERM when the test ends.
func startChurnProm(t *testing.T, bin string, targets ...string) *churnProm {
	t.Helper()
	work := t.TempDir()
	config := filepath.Join(work, "prometheus.yml")
	err := os.WriteFile(config, []byte(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: churn
    static_configs:
      - targets: ['`+strings.Join(targets, "', '")+`']
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := testutil.Start(t, nil, bin,
		"--config.file="+config,
		"--storage.tsdb.path="+filepath.Join(work, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	t.Cleanup(func() { p.Cmd.Process.Signal(syscall.SIGTERM) })
	return &churnProm{url: "http://" + addr, p: p}
}

// churnSample is one series of an instant query's answer.
type churnSample struct {
	Metric map[string]string
	Value  float64
}

// query evaluates an instant query; ok is false while Prometheus does not
// answer.
func (p *churnProm) query(t *testing.T, q string) (res []churnSample, ok bool) {
	t.Helper()
	select {
	case <-p.p.Done():
		t.Fatalf("prometheus exited: %s", p.p.Stderr())
	default:
	}
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, false // not listening yet
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		return nil, false
	}
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("query %s: value %q", q, s)
		}
		res = append(res, churnSample{r.Metric, v})
	}
	return res, true
}

// value evaluates a query of one series and returns its value; ok is
// false unless it has exactly one.
func (p *churnProm) value(t *testing.T, q string) (float64, bool) {
	t.Helper()
	res, ok := p.query(t, q)
	if !ok || len(res) != 1 {
		return 0, false
	}
	return res[0].Value, true
}

// counters returns the names of the series that are counters:
// Prometheus's metadata of what it scraped says which metrics are
// counters and histograms, whose _bucket, _count and _sum are counters.
func (p *churnProm) counters(t *testing.T) map[string]bool {
	t.Helper()
	resp, err := http.Get(p.url + "/api/v1/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data map[string][]struct{ Type string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for name, ms := range body.Data {
		for _, m := range ms {
			switch m.Type {
			case "counter":
				out[name] = true
			case "histogram":
				out[name+"_bucket"], out[name+"_count"], out[name+"_sum"] = true, true, true
			}
		}
	}
	return out
}

// TestChurn is the churn test: mmstats-demo with 4 workers
// recycled every 200 requests (--max-requests) under the test's own load
// for 60 s, hundreds of worker lifetimes: 30 s of clean recycling only,
// then 30 s with a few workers killed with -9 at random. cleanstats runs
// every few seconds; a real Prometheus scrapes mmash --aggregate.
//   - No counter series went back (PromQL resets() over the whole run is
//     0): a worker leaving takes nothing from the sums.
//   - After the clean phase, each status class totals exactly the
//     answers the test counted, in slurpstats --total and in Prometheus.
//     After the kills, the totals exceed the answers by no more than the
//     requests in flight at the kills (a killed worker may count a
//     request and die before answering it).
//   - The directory holds at most the live workers' files and the totals
//     file, and only the totals once the demo has stopped.
//
// Without folding, a worker's counts would vanish with its file: totals
// far short, and resets.
func TestChurn(t *testing.T) {
	prom := testutil.Tool(t, "prometheus", "prometheus")
	t.Parallel()
	dir := t.TempDir()
	c := &churnDemo{answered: map[string]int{}}
	c.d = testutil.StartDemo(t, dir, "--workers", strconv.Itoa(churnWorkers),
		"--max-requests", strconv.Itoa(churnMaxRequests), "-v", "--listen", "127.0.0.1:0")
	c.mm = testutil.StartMmash(t, nil, dir, "--aggregate")
	p := startChurnProm(t, prom, c.instance())
	// Prometheus has scraped it before the load starts: the series begin
	// at 0.
	testutil.Eventually(t, 2*time.Minute, func() bool {
		_, ok := p.value(t, `mmstats_web_stats_status_2XX_total{job="churn"}`)
		return ok
	}, func() string {
		return fmt.Sprintf("Prometheus %s has not scraped mmash; stderr:\n%s", p.url, p.p.Stderr())
	})
	begin := time.Now()

	// cleanstats every few seconds, as from cron.
	var cleanMu sync.Mutex
	var cleanErrs []string
	cleanRuns := 0
	clean := func() {
		out, err := exec.Command(testutil.Binary(t, "cmd/cleanstats"), "-q", dir).CombinedOutput()
		cleanMu.Lock()
		defer cleanMu.Unlock()
		cleanRuns++
		if err != nil {
			cleanErrs = append(cleanErrs, fmt.Sprintf("cleanstats: %v: %s", err, out))
		}
	}
	cleaning, stopCleaning := context.WithCancel(context.Background())
	var cleaner sync.WaitGroup
	cleaner.Go(func() {
		tick := time.NewTicker(churnClean)
		defer tick.Stop()
		for {
			select {
			case <-cleaning.Done():
				return
			case <-tick.C:
				clean()
			}
		}
	})

	// Phase 1: clean recycling only. The totals are exact.
	phase(func(ctx context.Context) { c.load(ctx) }, churnRun/2)
	clean()
	c.check(t, p, "clean recycling")

	// Phase 2: the kills, at random instants.
	kills := make([]time.Duration, churnKills)
	for i := range kills {
		kills[i] = 2*time.Second + rand.N(churnRun/2-4*time.Second)
	}
	slices.Sort(kills)
	phase(func(ctx context.Context) { c.load(ctx) }, churnRun/2, func() {
		start := time.Now()
		for _, at := range kills {
			time.Sleep(time.Until(start.Add(at)))
			c.kill(t)
		}
	})
	stopCleaning()
	cleaner.Wait()
	clean() // the last kill's file too
	if len(c.killsFailed) > 0 {
		t.Errorf("kills: %s", strings.Join(c.killsFailed, "; "))
	}
	recycled := c.check(t, p, "kills") // so far: all
	if len(cleanErrs) > 0 {
		t.Errorf("%d of %d cleanstats runs failed: %s", len(cleanErrs), cleanRuns, strings.Join(cleanErrs, "\n"))
	}
	t.Logf("%d worker lifetimes in %v of load: %d recycled after --max-requests %d, %d killed, %d live; cleanstats ran %d times",
		recycled+c.kills+churnWorkers, churnRun, recycled, churnMaxRequests, c.kills, churnWorkers, cleanRuns)

	// Stopped, the workers fold themselves: the totals file alone stays,
	// with the same totals.
	want := churnTotal(t, dir)
	c.d.Stop(t)
	if names := churnEntries(t, dir); !slices.Equal(names, []string{churnTotals}) {
		t.Errorf("after the demo stopped, %s holds %v, want only %s", dir, names, churnTotals)
	}
	if got := churnTotal(t, dir); !equalCounts(got, want) {
		t.Errorf("after the demo stopped, slurpstats --total %v, before %v", got, want)
	}
	stopped := time.Now()
	testutil.Eventually(t, time.Minute, func() bool {
		v, ok := p.value(t, `timestamp(mmstats_web_stats_status_2XX_total{job="churn"})`)
		return ok && v > float64(stopped.UnixNano())/1e9
	}, func() string { return "Prometheus has not scraped mmash since the demo stopped" })

	// No counter went back during the whole run: resets() is 0 for every
	// series of a counter (and of a histogram's _bucket, _count, _sum).
	// (One query per name: resets() drops the name, and series of two
	// names would then collide.)
	window := int(time.Since(begin).Seconds()) + 30
	checked := 0
	var reset []string
	for _, name := range slices.Sorted(maps.Keys(p.counters(t))) {
		if !strings.HasPrefix(name, "mmstats_") {
			continue
		}
		res, ok := p.query(t, fmt.Sprintf(`resets(%s{job="churn"}[%ds])`, name, window))
		if !ok {
			t.Fatalf("Prometheus does not answer resets() of %s; stderr:\n%s", name, p.p.Stderr())
		}
		for _, s := range res {
			checked++
			if s.Value != 0 {
				reset = append(reset, fmt.Sprintf("%s%v: %v", name, s.Metric, s.Value))
			}
		}
	}
	t.Logf("resets() of %d counter series over %ds", checked, window)
	if checked < len(churnClasses) {
		t.Errorf("resets() of %d counter series: fewer than the status classes", checked)
	}
	if len(reset) > 0 {
		t.Errorf("%d counter series went back during the run (resets() > 0), such as:\n%s", len(reset), strings.Join(reset[:min(len(reset), 20)], "\n"))
	}
	c.waitProm(t, p, want)
}

// phase runs load, and each of also, for d, then stops the load and
// waits for them all.
func phase(load func(context.Context), d time.Duration, also ...func()) {
	ctx, stop := context.WithTimeout(context.Background(), d)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { load(ctx) })
	for _, f := range also {
		wg.Go(f)
	}
	wg.Wait()
}

// check checks the demo after a phase of load (when called, no request
// is in flight and cleanstats has just run): the directory holds the live
// workers' files and the totals file, no more; slurpstats --total, and
// Prometheus once it has scraped them, give each status class the
// answers the test counted, exactly without kills, plus at most the
// requests in flight at the kills. It returns how many workers were
// recycled so far, as the supervisor said, after checking that number
// against the answers.
func (c *churnDemo) check(t *testing.T, p *churnProm, what string) int {
	t.Helper()
	stderr := c.d.Stderr()
	recycled := strings.Count(stderr, " exited cleanly; started worker ")
	killed := strings.Count(stderr, " exited (signal: killed)")
	sum := 0
	for _, n := range c.answered {
		sum += n
	}
	t.Logf("after %s: %d requests answered (%v), %d failed; %d workers recycled, %d killed",
		what, sum, c.answered, c.failed, recycled, killed)
	if killed != c.kills {
		t.Errorf("after %s: %d workers killed, the supervisor says %d", what, c.kills, killed)
	}
	// A recycled worker answered from churnMaxRequests to that plus the
	// requests in flight when it got there (churnClients at most); the
	// live ones and the killed ones fewer.
	most := churnMaxRequests + churnClients
	if least := (sum - (churnWorkers+killed)*most) / most; recycled < least || recycled > sum/churnMaxRequests {
		t.Errorf("after %s: %d workers recycled for %d requests, want %d to %d", what, recycled, sum, least, sum/churnMaxRequests)
	}

	live := churnWorkersOf(c.d.Cmd.Process.Pid)
	if names := churnEntries(t, c.d.Dir); len(names) > len(live)+1 || !slices.Contains(names, churnTotals) {
		t.Errorf("after %s: %s holds %v, %d live workers: want at most their files and %s", what, c.d.Dir, names, len(live), churnTotals)
	}

	got := churnTotal(t, c.d.Dir)
	over := 0
	for _, class := range churnClasses {
		over += got[class] - c.answered[class]
		if got[class] < c.answered[class] {
			t.Errorf("after %s: status.%s totals %d, below the %d answers counted", what, class, got[class], c.answered[class])
		}
	}
	switch {
	case c.kills == 0 && over != 0:
		t.Errorf("after %s: slurpstats --total %v, the test's answers %v: not equal", what, got, c.answered)
	case over > int(c.atKills):
		t.Errorf("after %s: slurpstats --total %v, the test's answers %v: %d more, and %d requests were in flight at the kills",
			what, got, c.answered, over, c.atKills)
	}
	t.Logf("after %s: totals %v: %d more than the answers; %d requests in flight at the %d kills", what, got, over, c.atKills, c.kills)
	c.waitProm(t, p, got)
	return recycled
}

// waitProm waits until Prometheus's last value of each status class of
// the demo is want's.
func (c *churnDemo) waitProm(t *testing.T, p *churnProm, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	testutil.Eventually(t, time.Minute, func() bool {
		for _, class := range churnClasses {
			v, ok := p.value(t, fmt.Sprintf(`mmstats_web_stats_status_%s_total{instance=%q}`, class, c.instance()))
			if !ok {
				return false
			}
			got[class] = int(v)
		}
		return equalCounts(got, want)
	}, func() string {
		return fmt.Sprintf("Prometheus's status classes %v, slurpstats --total %v", got, want)
	})
}

// equalCounts reports whether a and b have the same status classes.
func equalCounts(a, b map[string]int) bool {
	for _, class := range churnClasses {
		if a[class] != b[class] {
			return false
		}
	}
	return true
}
