//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// filePID returns the PID in the name of a worker's stats file.
func filePID(t *testing.T, path string) int {
	t.Helper()
	var pid, tid int
	if _, err := fmt.Sscanf(filepath.Base(path), "mmstats-demo-%d-%d.mmstats", &pid, &tid); err != nil {
		t.Fatalf("file %s is not named after a worker: %v", path, err)
	}
	return pid
}

// newWorker waits for the file of a worker that is not in known, and
// returns its path and PID, adding the PID to d.PIDs so that the test's
// cleanup checks it too.
func newWorker(t *testing.T, d *testutil.Demo, known ...int) (string, int) {
	t.Helper()
	var path string
	var pid int
	testutil.Eventually(t, 20*time.Second, func() bool {
		for _, p := range files(t, d.Dir) {
			if n := filePID(t, p); !slices.Contains(known, n) {
				path, pid = p, n
				return true
			}
		}
		return false
	}, func() string {
		return fmt.Sprintf("no new worker's file beside %v in %s; stderr:\n%s", known, d.Dir, d.Stderr())
	})
	d.PIDs = append(d.PIDs, pid)
	return path, pid
}

// running reports whether the supervisor has not exited.
func running(d *testutil.Demo) bool {
	select {
	case <-d.Done():
		return false
	default:
		return true
	}
}

// TestWorkerKilledIsReplaced kills a worker with SIGKILL, as the OOM
// killer or an operator would: the supervisor says so in one line,
// starts another worker whose stats move, and keeps running; its file
// stays, stale, for cleanstats.
func TestWorkerKilledIsReplaced(t *testing.T) {
	t.Parallel()
	d := startDemo(t, "--workers", "2", "--load", "--rate", "100", "--listen", "127.0.0.1:0")
	paths := waitFiles(t, d.Dir, 2)
	victim, other := d.PIDs[0], d.PIDs[1]
	var victimFile string
	for _, p := range paths {
		if filePID(t, p) == victim {
			victimFile = p
		}
	}
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	line := regexp.MustCompile(fmt.Sprintf(`(?m)^mmstats-demo: worker %d exited \(signal: killed\)(; started worker (\d+) in its place| \S+ after starting; starting another in \S+)$`, victim))
	testutil.Eventually(t, 10*time.Second, func() bool { return line.MatchString(d.Stderr()) },
		func() string { return fmt.Sprintf("no line for worker %d on stderr:\n%s", victim, d.Stderr()) })
	if n := strings.Count(d.Stderr(), "\n"); n != 1 {
		t.Errorf("%d lines on stderr, want 1:\n%s", n, d.Stderr())
	}
	path, pid := newWorker(t, d, victim, other)
	if m := line.FindStringSubmatch(d.Stderr()); m[2] != "" && m[2] != strconv.Itoa(pid) {
		t.Errorf("stderr names worker %s, the new file is of %d", m[2], pid)
	}

	// The new worker serves and counts: its 2XX counter moves.
	var first, now float64
	testutil.Eventually(t, 10*time.Second, func() bool { first = sums(t, []string{path})[classes[0]]; return first > 0 },
		func() string { return fmt.Sprintf("no 2XX in the new worker's file %s", path) })
	testutil.Eventually(t, 10*time.Second, func() bool { now = sums(t, []string{path})[classes[0]]; return now > first },
		func() string { return fmt.Sprintf("the new worker's 2XX stays at %v", now) })
	if !running(d) {
		t.Fatalf("the supervisor exited: %v; stderr:\n%s", d.Err(), d.Stderr())
	}

	if err := d.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(t, 15*time.Second); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit status 0); stderr:\n%s", err, d.Stderr())
	}
	if left := files(t, d.Dir); len(left) != 1 || left[0] != victimFile {
		t.Errorf("files left %v, want only the killed worker's %s", left, victimFile)
	}
	for _, pid := range []int{other, pid} {
		if alive(pid) {
			t.Errorf("worker %d still alive after the supervisor exited", pid)
		}
	}
}

// TestCrashLoopBacksOff makes replacement workers fail at once (their
// stats directory is gone): the supervisor waits longer each time and
// keeps running, and a worker starts again once the directory is back.
func TestCrashLoopBacksOff(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "stats")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDemoIn(t, dir, "--workers", "1", "--listen", "127.0.0.1:0")
	waitFiles(t, dir, 1)
	away := filepath.Join(root, "away")
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	victim := d.PIDs[0]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	again := regexp.MustCompile(`(?m)^mmstats-demo: worker \d+ exited \(exit status 1\) \S+ after starting; starting another in (\S+)$`)
	var pauses []time.Duration
	testutil.Eventually(t, 20*time.Second, func() bool {
		pauses = pauses[:0]
		for _, m := range again.FindAllStringSubmatch(d.Stderr(), -1) {
			p, err := time.ParseDuration(m[1])
			if err != nil {
				t.Fatalf("pause %q: %v", m[1], err)
			}
			pauses = append(pauses, p)
		}
		return len(pauses) >= 3
	}, func() string { return fmt.Sprintf("not 3 failed starts on stderr:\n%s", d.Stderr()) })
	for i := 1; i < len(pauses); i++ {
		if pauses[i] != 2*pauses[i-1] {
			t.Errorf("pauses %v do not double", pauses)
			break
		}
	}
	if !running(d) {
		t.Fatalf("the supervisor exited: %v; stderr:\n%s", d.Err(), d.Stderr())
	}

	if err := os.Rename(away, dir); err != nil {
		t.Fatal(err)
	}
	newWorker(t, d, victim)
	if err := d.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(t, 15*time.Second); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit status 0); stderr:\n%s", err, d.Stderr())
	}
}

// TestCtrlC sends SIGINT to the supervisor's process group, as a Ctrl-C
// on its terminal does: the workers, in a group of their own, hear it
// from the supervisor only, none is replaced, and all files go.
func TestCtrlC(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(testutil.Binary(t, "cmd/mmstats-demo"), "--workers", "3", "--load", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "MMSTATS_PATH="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the terminal's foreground group
	p := testutil.StartCmd(t, cmd, 16)
	if line := p.Line(t, 20*time.Second); !startLine.MatchString(line) {
		t.Fatalf("startup line %q", line)
	}
	waitFiles(t, dir, 3)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(t, 15*time.Second); err != nil {
		t.Fatalf("after Ctrl-C: %v (want exit status 0); stderr:\n%s", err, p.Stderr())
	}
	if p.Stderr() != "" {
		t.Errorf("stderr after Ctrl-C, want nothing:\n%s", p.Stderr())
	}
	if left := files(t, dir); len(left) != 0 {
		t.Errorf("files left after Ctrl-C: %v", left)
	}
}

// TestVerbose checks -v's lines about the workers and -vv's line per
// request.
func TestVerbose(t *testing.T) {
	t.Parallel()
	d := startDemo(t, "--workers", "1", "-vv", "--listen", "127.0.0.1:0")
	pid := d.PIDs[0]
	if code, _ := get(t, d.URL+"/500"); code != 500 {
		t.Fatalf("GET /500 answered %d", code)
	}
	request := fmt.Sprintf("mmstats-demo: worker %d: GET /500 500 ", pid)
	testutil.Eventually(t, 10*time.Second, func() bool { return strings.Contains(d.Stderr(), request) },
		func() string { return fmt.Sprintf("no %q on stderr:\n%s", request, d.Stderr()) })
	if err := d.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(t, 15*time.Second); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr:\n%s", err, d.Stderr())
	}
	for _, want := range []string{
		fmt.Sprintf("mmstats-demo: started worker %d\n", pid),
		fmt.Sprintf("mmstats-demo: worker %d ready: %s\n", pid, filepath.Join(d.Dir, fmt.Sprintf("mmstats-demo-%d-", pid))),
		"mmstats-demo: terminated: stopping 1 worker\n",
	} {
		if !strings.Contains(d.Stderr(), strings.TrimSuffix(want, "\n")) {
			t.Errorf("stderr lacks %q:\n%s", want, d.Stderr())
		}
	}
}
