//go:build unix

package test

// The writer never harms its host nor other processes: another PID
// namespace's file survives Remove, and 0.8.0's pollstats survives a file
// that grows under it.

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// This test binary doubles as a writer that grows its file on demand
// (see grower), when started with MMSTATS_TEST_GROWER set to a directory.
func init() {
	if dir := os.Getenv("MMSTATS_TEST_GROWER"); dir != "" {
		os.Exit(grower(dir))
	}
}

// grower creates a file with a counter that it increments every
// millisecond, prints the path and the size; when its stdin closes, adds
// fields until the file has grown to 16 KiB and prints the size again;
// on SIGTERM, removes the file and exits.
func grower(dir string) int {
	var s struct {
		C mmstats.Counter `mmstats:"grow.counter"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: "grower.mmstats"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Remove()
	fmt.Println(f.Path())
	fmt.Println(f.Size())
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	eof := make(chan struct{})
	go func() {
		os.Stdin.Read(make([]byte, 1))
		close(eof)
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-term:
			return 0
		case <-eof:
			eof = nil
			for i := 0; f.Size() < 16384; i++ {
				var c mmstats.Counter
				if err := f.Add(fmt.Sprintf("grow.extra%04d.%s", i, strings.Repeat("x", 40)), &c); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				s.C.Inc()
			}
			fmt.Println(f.Size())
		case <-tick.C:
			s.C.Inc()
		}
	}
}

// TestPython08PollstatsSurvivesGrowth runs the pollstats of Python
// mmstats 0.8.0 (ported to Python 3 for the tests, its logic unchanged:
// it maps each file once at its size) on a file that a Go process grows
// from 4 KiB to 16 KiB while it polls. The writer never extends a file
// that readers may have mapped: 0.8.0 keeps reading the old file, frozen,
// and does not crash (it died with "IndexError: mmap index out of range").
func TestPython08PollstatsSurvivesGrowth(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is required by this test (scripts/test installs it): %v", err)
	}
	script := filepath.Join(testutil.Root(t), "testdata", "python", "pollstats08.py")
	dir := testutil.SharedDir(t, 0o755)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MMSTATS_TEST_GROWER="+dir)
	w := &proc{testutil.StartCmd(t, cmd, 64)}
	path := w.line(t, time.Minute)
	if size := w.line(t, time.Minute); size != "4096" {
		t.Fatalf("the writer's file starts at %s bytes, want 4096", size)
	}

	poll := start(t, nil, py, "-u", script, "-c", "3", "-d", "1", "grow.counter", path)
	header := poll.line(t, time.Minute)
	if !strings.Contains(header, "grow.counter") {
		t.Fatalf("pollstats header %q", header)
	}
	first := poll.line(t, time.Minute)
	w.CloseStdin() // grow now, while pollstats polls
	if size := w.line(t, time.Minute); size != "16384" {
		t.Errorf("the writer's file grew to %s bytes, want 16384", size)
	}
	var values []string
	for i := 0; i < 2; i++ {
		values = append(values, poll.line(t, time.Minute))
	}
	if code := poll.wait(t, time.Minute); code != 0 {
		t.Errorf("0.8.0 pollstats exited %d after the file grew; stderr:\n%s", code, poll.Stderr())
	}
	noCrash(t, "pollstats 0.8.0", poll.Stderr())
	if strings.Contains(poll.Stderr(), "Traceback") {
		t.Errorf("0.8.0 pollstats: %s", poll.Stderr())
	}
	t.Logf("0.8.0 pollstats printed %q, then %q after the growth", first, values)
	w.Cmd.Process.Signal(syscall.SIGTERM)
	if code := w.wait(t, time.Minute); code != 0 {
		t.Errorf("writer exited %d: %s", code, w.Stderr())
	}
}

// TestRemoveSparesAnotherNamespacesFile: two writers share a directory,
// each PID 1 in its own PID namespace. The second one's Remove, which
// also deletes "this process's files of other threads" (its template
// has {PID} and {TID}), must leave the first one's live file: that file
// says sys.pid 1 too, but this process did not create it.
func TestRemoveSparesAnotherNamespacesFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --pid (a PID namespace); scripts/test runs it as root in CI")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skipf("no unshare(1): %v", err)
	}
	if out, err := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make a PID namespace here: %v: %s", err, out)
	}
	dir := testutil.SharedDir(t, 0o755)
	ns := []string{"--pid", "--fork", "--mount-proc", testwriter(t), "-dir", dir}
	first := start(t, nil, unshare, append(ns, "-name", "app-{PID}-first.mmstats")...)
	firstPath := first.line(t, time.Minute)
	second := start(t, nil, unshare, append(ns, "-name", "app-{PID}-{TID}.mmstats")...)
	secondPath := second.line(t, time.Minute)
	// {PID} is "1.<the namespace's inode>" in a PID namespace other
	// than the initial one.
	if !regexp.MustCompile(`^app-1\.\d+-first\.mmstats$`).MatchString(filepath.Base(firstPath)) ||
		!regexp.MustCompile(`^app-1\.\d+-`).MatchString(filepath.Base(secondPath)) {
		t.Fatalf("writers are not PID 1: %s, %s", firstPath, secondPath)
	}
	before := idOf(t, firstPath)

	second.CloseStdin() // the second writer removes its file and exits
	if code := second.wait(t, time.Minute); code != 0 {
		t.Errorf("second writer: exit %d: %s", code, second.Stderr())
	}
	if _, err := os.Lstat(secondPath); !os.IsNotExist(err) {
		t.Errorf("the second writer's own file is still there (%v)", err)
	}
	if _, err := os.Lstat(firstPath); err != nil {
		t.Fatalf("the second writer's Remove deleted the first writer's live file: %v", err)
	}
	if idOf(t, firstPath) != before {
		t.Errorf("%s is another file now", firstPath)
	}
	counters, r := slurpJSON(t, nil, firstPath)
	if r.Code != 0 || counters[firstPath] != 42 {
		t.Errorf("the first writer's file reads %v (exit %d)", counters, r.Code)
	}
	first.CloseStdin()
	if code := first.wait(t, time.Minute); code != 0 {
		t.Errorf("first writer: exit %d: %s", code, first.Stderr())
	}
	if _, err := os.Lstat(firstPath); !os.IsNotExist(err) {
		t.Errorf("the first writer did not remove its own file (%v)", err)
	}
}
