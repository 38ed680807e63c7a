//go:build unix

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/reader"
)

var startLine = regexp.MustCompile(`^mmstats-demo: (\d+) workers? on (http://127\.0\.0\.1:\d+), stats in (\S+) \(pids ([\d ]+)\)$`)

var classes = []string{"web.stats.status.2XX", "web.stats.status.3XX", "web.stats.status.4XX", "web.stats.status.5XX"}

// startDemo starts the binary with MMSTATS_PATH set to a new directory
// (see startDemoIn).
func startDemo(t *testing.T, args ...string) *testutil.Demo {
	t.Helper()
	return startDemoIn(t, t.TempDir(), args...)
}

// startDemoIn is testutil.StartDemo, and at the end of the test checks
// that no worker is left running: tests here stop the demo themselves.
func startDemoIn(t *testing.T, dir string, args ...string) *testutil.Demo {
	t.Helper()
	d := testutil.StartDemo(t, dir, args...)
	// Should the test fail with workers left running, kill them before
	// testutil waits for the supervisor's stderr, which they hold.
	t.Cleanup(func() {
		for _, pid := range d.PIDs {
			if alive(pid) {
				t.Errorf("worker %d still running at the end of the test", pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return d
}

// totalsFile is the file the workers' files are folded into when they
// exit: it stays.
const totalsFile = "mmstats-demo-totals.mmstats"

// files returns the workers' stats files in dir (not the totals file).
func files(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "mmstats-demo-*.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(m, func(p string) bool { return filepath.Base(p) == totalsFile })
}

// leftovers returns what is in dir but the totals file and its lock.
func leftovers(dir string) []string {
	es, _ := os.ReadDir(dir)
	var out []string
	for _, e := range es {
		if n := e.Name(); n != totalsFile {
			out = append(out, n)
		}
	}
	return out
}

// waitFiles waits until dir holds n stats files and returns them.
func waitFiles(t *testing.T, dir string, n int) []string {
	t.Helper()
	var got []string
	testutil.Eventually(t, 10*time.Second, func() bool {
		got = files(t, dir)
		return len(got) == n
	}, func() string { return fmt.Sprintf("files in %s: %v, want %d", dir, got, n) })
	return got
}

// sums reads the files and adds up each numeric label across them.
func sums(t *testing.T, paths []string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, p := range paths {
		stats, err := reader.ReadFile(p)
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		for _, s := range stats {
			if s.Value.Kind().Numeric() {
				out[s.Label] += s.Value.Float()
			}
		}
	}
	return out
}

func total(s map[string]float64) float64 {
	var n float64
	for _, c := range classes {
		n += s[c]
	}
	return n
}

// alive reports whether pid is a process that has not exited (a zombie
// has exited).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestServeCountAndStop(t *testing.T) {
	t.Parallel()
	d := startDemo(t, "--workers", "2", "--load", "--rate", "100", "--listen", "127.0.0.1:0")
	if len(d.PIDs) != 2 {
		t.Fatalf("pids %v, want 2 workers", d.PIDs)
	}
	paths := waitFiles(t, d.Dir, 2)
	for _, p := range paths {
		var pid, tid int
		if _, err := fmt.Sscanf(filepath.Base(p), "mmstats-demo-%d-%d.mmstats", &pid, &tid); err != nil || (pid != d.PIDs[0] && pid != d.PIDs[1]) {
			t.Errorf("file %s is not named after a worker %v", p, d.PIDs)
		}
	}

	first := sums(t, paths)
	time.Sleep(500 * time.Millisecond)
	second := sums(t, paths)
	if total(second) <= total(first) {
		t.Errorf("counters did not move in 0.5s: %v then %v", total(first), total(second))
	}
	var s map[string]float64
	testutil.Eventually(t, 5*time.Second, func() bool {
		s = sums(t, paths)
		return s[classes[0]] > 0 && s[classes[1]] > 0 && s[classes[2]] > 0 && s[classes[3]] > 0
	}, func() string { return fmt.Sprintf("not every status class counted: %v", s) })
	// The timer's stats are published once a second.
	testutil.Eventually(t, 5*time.Second, func() bool {
		s = sums(t, paths)
		return s["web.stats.timers.request"] > 0 && s["web.stats.timers.request.p99"] > 0
	}, func() string { return fmt.Sprintf("request timer not published: %v", s) })
	// The load reconnects now and then, so every worker gets some of it.
	for _, p := range paths {
		var one map[string]float64
		testutil.Eventually(t, 5*time.Second, func() bool {
			one = sums(t, []string{p})
			return one[classes[0]] > 0
		}, func() string { return fmt.Sprintf("worker file %s has no traffic: %v", p, one) })
		if hit, now := one["web.stats.timers.last_hit"], float64(time.Now().UnixNano())/1e9; hit < now-60 || hit > now+1 {
			t.Errorf("%s: last_hit %f is not a recent UNIX time (now %f)", p, hit, now)
		}
	}

	const mine = 25
	before := sums(t, paths)[classes[0]]
	for range mine {
		if code, _ := get(t, d.URL+"/"); code != http.StatusOK {
			t.Fatalf("GET / answered %d", code)
		}
	}
	var after float64
	testutil.Eventually(t, 5*time.Second, func() bool {
		after = sums(t, paths)[classes[0]]
		return after >= before+mine
	}, func() string {
		return fmt.Sprintf("2XX went from %v to %v after %d requests of mine", before, after, mine)
	})

	code, body := get(t, d.URL+"/status")
	if code != http.StatusOK {
		t.Fatalf("GET /status answered %d:\n%s", code, body)
	}
	shown := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if label, v, ok := strings.Cut(sc.Text(), ": "); ok {
			shown[label], _ = strconv.ParseFloat(v, 64)
		}
	}
	for _, c := range classes {
		if _, ok := shown[c]; !ok {
			t.Errorf("/status does not show %s:\n%s", c, body)
		}
	}
	if shown[classes[0]] <= 0 {
		t.Errorf("/status shows no 2XX answers:\n%s", body)
	}

	start := time.Now()
	if err := d.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit status 0); stderr:\n%s", err, d.Stderr())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v to stop after SIGTERM", took)
	}
	if left := leftovers(d.Dir); len(left) != 0 {
		t.Errorf("files left after SIGTERM: %v", left)
	}
	for _, pid := range d.PIDs {
		if alive(pid) {
			t.Errorf("worker %d still alive after the supervisor exited", pid)
		}
	}
}

func TestDurationEnds(t *testing.T) {
	t.Parallel()
	bin := testutil.Binary(t, "cmd/mmstats-demo")
	dir := t.TempDir()
	start := time.Now()
	res := testutil.Run(t, []string{"MMSTATS_PATH=" + dir}, bin,
		"--duration", "1s", "--workers", "2", "--load", "--listen", "127.0.0.1:0")
	took := time.Since(start)
	if res.Code != 0 {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", res.Code, res.Stderr)
	}
	if !startLine.MatchString(strings.TrimSuffix(res.Stdout, "\n")) {
		t.Errorf("stdout %q is not one startup line", res.Stdout)
	}
	if took < time.Second || took > 10*time.Second {
		t.Errorf("--duration 1s ran %v", took)
	}
	if left := leftovers(dir); len(left) != 0 {
		t.Errorf("files left after --duration: %v", left)
	}
}

// TestSupervisorKilled kills the supervisor with SIGKILL: the kernel sends
// each worker SIGTERM (Pdeathsig), and they remove their files and exit.
func TestSupervisorKilled(t *testing.T) {
	t.Parallel()
	d := startDemo(t, "--workers", "2", "--load", "--listen", "127.0.0.1:0")
	waitFiles(t, d.Dir, 2)
	if err := d.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(t, 10*time.Second); err == nil {
		t.Error("the killed supervisor exited with status 0")
	}
	testutil.Eventually(t, 5*time.Second, func() bool { return len(files(t, d.Dir)) == 0 },
		func() string { return fmt.Sprintf("files left: %v", files(t, d.Dir)) })
	testutil.Eventually(t, 5*time.Second, func() bool { return !alive(d.PIDs[0]) && !alive(d.PIDs[1]) },
		func() string { return fmt.Sprintf("workers %v outlived the supervisor", d.PIDs) })
}

func TestFailures(t *testing.T) {
	t.Parallel()
	bin := testutil.Binary(t, "cmd/mmstats-demo")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{"port taken", []string{"MMSTATS_PATH=" + dir}, []string{"--listen", busy.Addr().String()}, 1, "cannot listen"},
		{"no stats directory", []string{"MMSTATS_PATH=" + filepath.Join(dir, "missing")}, []string{"--workers", "2", "--listen", "127.0.0.1:0"}, 1, "failed to start"},
		{"zero workers", nil, []string{"--workers", "0"}, 2, "--workers must be between"},
		{"negative duration", nil, []string{"--duration", "-3s"}, 2, "--duration must not be negative"},
		{"worker typo", []string{"MMSTATS_PATH=" + dir}, []string{"--worker", "3"}, 2, "mmstats-demo: unknown flag: --worker\n"},
		{"workers not a number", nil, []string{"--workers", "abc"}, 2, `mmstats-demo: --workers must be a whole number, got "abc"` + "\n"},
		{"worker role by hand", []string{"MMSTATS_PATH=" + dir, "MMSTATS_DEMO_WORKER_OF=" + strconv.Itoa(os.Getpid())}, nil, 1, "MMSTATS_DEMO_WORKER_OF is internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := testutil.Run(t, tt.env, bin, tt.args...)
			if res.Code != tt.code || !strings.Contains(res.Stderr, tt.stderr) {
				t.Errorf("exit status %d, stderr %q; want %d and %q", res.Code, res.Stderr, tt.code, tt.stderr)
			}
			if res.Stdout != "" {
				t.Errorf("stdout %q, want nothing", res.Stdout)
			}
		})
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	bin := testutil.Binary(t, "cmd/mmstats-demo")
	res := testutil.Run(t, nil, bin, "--help")
	if res.Code != 0 || !strings.Contains(res.Stdout, "Examples:") {
		t.Errorf("--help: exit status %d, stdout:\n%s", res.Code, res.Stdout)
	}
	res = testutil.Run(t, nil, bin, "--version")
	if res.Code != 0 || !strings.HasPrefix(res.Stdout, "mmstats-demo ") {
		t.Errorf("--version: exit status %d, stdout %q", res.Code, res.Stdout)
	}
}
