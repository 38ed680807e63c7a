//go:build unix

package test

// cleanstats against what other processes do to its directory meanwhile:
// the temporary files of writers killed while creating their file (and,
// in cleanstats_race_linux_test.go, live files renamed over stale ones
// while it removes them).

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// creatorEnv makes the test binary a creator process (the helper test
// below): it creates the temporary file named by the variable as the
// writer does, prints "ready" and waits to be killed.
const creatorEnv = "MMSTATS_TEST_TEMP_CREATOR"

// TestCleanstatsTempCreatorHelper is not a test: run by
// TestCleanstatsAbandonedTemporaries as a child process, it creates a
// temporary file as the writer does (open O_CREAT|O_EXCL, then a shared
// flock) and waits to be killed.
func TestCleanstatsTempCreatorHelper(t *testing.T) {
	path := os.Getenv(creatorEnv)
	if path == "" {
		t.Skip("a helper process for TestCleanstatsAbandonedTemporaries")
	}
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	syscall.Write(fd, []byte{1}) // the version byte, as a writer begins
	fmt.Println("ready")
	time.Sleep(10 * time.Minute)
	os.Exit(0)
}

// startCreator starts a child that creates path as a writer creates its
// temporary file, and returns once the file is locked.
func startCreator(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCleanstatsTempCreatorHelper$", "-test.v")
	cmd.Env = append(os.Environ(), creatorEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if l := sc.Text(); l == "ready" {
			return cmd
		} else if strings.HasPrefix(l, "error:") {
			t.Fatalf("creator of %s: %s", path, l)
		}
	}
	t.Fatalf("creator of %s exited: %v", path, cmd.Wait())
	return nil
}

// TestCleanstatsAbandonedTemporaries: writers killed (kill -9) while
// creating their file leave a temporary file; cleanstats removes it once
// its lock is free and it is 60 s old, in both the writer's name form
// and the older writers' one. A temporary file whose creator lives (its
// lock held) stays, however old; one that is young stays.
func TestCleanstatsAbandonedTemporaries(t *testing.T) {
	dir := testutil.MemDir(t)
	names := map[string]string{
		"killed":    ".mmstats.0123456789abcdef.tmp",
		"killedOld": ".app-1-1.mmstats.tmp0123456789ab", // an older writer's name
		"young":     ".mmstats.1123456789abcdef.tmp",
		"live":      ".mmstats.2123456789abcdef.tmp",
		"liveOld":   ".app-1-2.mmstats.tmp1123456789ab",
	}
	p := map[string]string{}
	creators := map[string]*exec.Cmd{}
	for k, n := range names {
		p[k] = filepath.Join(dir, n)
		creators[k] = startCreator(t, p[k])
	}
	for _, k := range []string{"killed", "killedOld", "young"} {
		creators[k].Process.Signal(syscall.SIGKILL)
		creators[k].Wait()
	}
	// Age them all but the young one: its creator may have been killed,
	// or be about to lock it, for all cleanstats knows.
	old := time.Now().Add(-2 * time.Minute)
	for _, k := range []string{"killed", "killedOld", "live", "liveOld"} {
		if err := os.Chtimes(p[k], old, old); err != nil {
			t.Fatal(err)
		}
	}
	stale := testutil.WriteFile(t, dir, "stale.mmstats", template(t))

	r := testutil.Run(t, nil, cleanstats(t), "-v", dir)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
	}
	for _, want := range []string{
		"Abandoned temporary file (nobody holds its lock; unchanged for 1m0s or more). Deleting " + p["killed"],
		"Abandoned temporary file (nobody holds its lock; unchanged for 1m0s or more). Deleting " + p["killedOld"],
		"Temporary file being created (not locked yet, changed less than 1m0s ago). Keeping " + p["young"],
		"Temporary file in use (its creator holds its lock). Keeping " + p["live"],
		"Temporary file in use (its creator holds its lock). Keeping " + p["liveOld"],
		"Removed 3  -  0 alive",
	} {
		if !strings.Contains(r.Stdout, want+"\n") {
			t.Errorf("no line %q in:\n%s", want, r.Stdout)
		}
	}
	for k, gone := range map[string]bool{"killed": true, "killedOld": true, "young": false, "live": false, "liveOld": false} {
		if _, err := os.Lstat(p[k]); os.IsNotExist(err) != gone {
			t.Errorf("%s: removed = %v, want %v", names[k], !gone, gone)
		}
	}
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Error("the stale stats file is still there")
	}

	// Without -v, kept temporary files are not mentioned; with --json
	// they are, with their own reason.
	r = testutil.Run(t, nil, cleanstats(t), dir)
	if r.Stdout != "Removed 0  -  0 alive\n" || r.Code != 0 {
		t.Errorf("without -v: exit %d, stdout %q", r.Code, r.Stdout)
	}
	r = testutil.Run(t, nil, cleanstats(t), "--json", dir)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`"path": ?"` + regexp.QuoteMeta(p["young"]) + `", ?"kind": ?"temporary", ?"pid": ?null, ?"decision": ?"skipped", ?"reason": ?"young-temporary"`),
		regexp.MustCompile(`"path": ?"` + regexp.QuoteMeta(p["live"]) + `", ?"kind": ?"temporary", ?"pid": ?null, ?"decision": ?"alive", ?"reason": ?"lock-held"`),
	} {
		if !want.MatchString(r.Stdout) {
			t.Errorf("--json: no match for %s in:\n%s", want, r.Stdout)
		}
	}

	// Its creator killed too, the old live one goes.
	creators["live"].Process.Signal(syscall.SIGKILL)
	creators["live"].Wait()
	r = testutil.Run(t, nil, cleanstats(t), "-q", dir)
	if _, err := os.Lstat(p["live"]); r.Code != 0 || !os.IsNotExist(err) {
		t.Errorf("after its creator was killed: exit %d, %s still there: %v", r.Code, names["live"], err == nil)
	}
	t.Logf("result: cleanstats removed the temporary files of writers killed with -9 (both name forms), and kept the young one and those whose creator holds its lock")
}
