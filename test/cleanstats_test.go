package test

// cleanstats against what other processes do to its directory meanwhile:
// live files renamed over stale ones while it removes them, and the
// temporary files of writers killed while creating their file.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil"
)

// envInt returns $name as a positive number, or def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number", name, s)
		}
		return n
	}
	return def
}

// TestCleanstatsRenameRace runs cleanstats again and again over a
// directory of stale files (x0..x3.mmstats) while a renamer watches it
// (inotify): when cleanstats opens a stale file, the renamer waits a
// random few microseconds, renames a live writer's file over that name,
// and renames it back, as a deploy script that renames files may. The
// live file must never lose its last name, nor stay aside. The old
// removal (check the inode, then unlink the name) lost it within a few
// dozen runs. Runs: $MMSTATS_RACE_RUNS, or 300.
func TestCleanstatsRenameRace(t *testing.T) {
	runs := envInt(t, "MMSTATS_RACE_RUNS", 300)
	dir := testutil.MemDir(t)
	stale := template(t)
	_, live := testutil.StartWriter(t, nil, "-dir", dir, "-name", "live.hold")
	var liveSt syscall.Stat_t
	fd, err := syscall.Open(live, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	nlink := func() uint64 {
		syscall.Fstat(fd, &liveSt)
		return uint64(liveSt.Nlink)
	}
	nlink()
	liveIno := liveSt.Ino

	const names = 4
	tmp := filepath.Join(dir, "stale.tmp")
	place := func() error { // a stale file at every free name
		for i := range names {
			x := filepath.Join(dir, fmt.Sprintf("x%d.mmstats", i))
			if _, err := os.Lstat(x); err == nil {
				continue
			}
			if err := os.WriteFile(tmp, stale, 0o644); err != nil {
				return err
			}
			// Never over the name: the renamer may have put the live
			// file there since the Lstat.
			err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, x, unix.RENAME_NOREPLACE)
			if err == unix.EEXIST {
				err = os.Remove(tmp)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := place(); err != nil {
		t.Fatal(err)
	}
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Skipf("no inotify: %v", err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, dir, unix.IN_OPEN); err != nil {
		t.Fatal(err)
	}

	var stop atomic.Bool
	var swaps atomic.Int64
	var renamerErr error
	renamerDone := make(chan struct{})
	go func() { // no t.Fatal here
		defer close(renamerDone)
		renamerErr = func() error {
			buf := make([]byte, 64<<10)
			for !stop.Load() {
				n, err := unix.Read(in, buf)
				if err == unix.EAGAIN {
					unix.Poll([]unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}}, 10)
					continue
				} else if err != nil {
					return err
				}
				for off := 0; off+unix.SizeofInotifyEvent <= n; {
					ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
					name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
					off += unix.SizeofInotifyEvent + int(ev.Len)
					if !strings.HasPrefix(name, "x") || !strings.HasSuffix(name, ".mmstats") {
						continue
					}
					x := filepath.Join(dir, name)
					// A few microseconds: cleanstats takes tens from the
					// open to the removal.
					for end := time.Now().Add(time.Duration(rand.Int64N(int64(15 * time.Microsecond)))); time.Now().Before(end); {
					}
					if err := os.Rename(live, x); err != nil {
						return err
					}
					// Take it back: cleanstats may hold it aside a moment.
					for os.Rename(x, live) != nil {
						if nlink() == 0 {
							return fmt.Errorf("the live file lost its last name (swap %d)", swaps.Load()+1)
						}
						if stop.Load() {
							return fmt.Errorf("the live file is neither at %s nor back at %s", x, live)
						}
						runtime.Gosched()
					}
					swaps.Add(1)
				}
			}
			return nil
		}()
	}()

	decisions := map[string]int{}
	for run := 0; run < runs; run++ {
		r := testutil.Run(t, nil, cleanstats(t), "--json", dir)
		noCrash(t, "cleanstats", r.Stderr)
		for _, l := range lines(r.Stdout) {
			var v struct{ Path, Decision, Reason, Moved_To string }
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if v.Decision == "error" {
				t.Errorf("run %d: %s", run, l)
			}
			decisions[v.Decision+" ("+v.Reason+")"]++
		}
		if r.Code != 0 {
			t.Errorf("run %d: exit %d, stderr %q", run, r.Code, r.Stderr)
		}
		select {
		case <-renamerDone:
			t.Fatalf("renamer, after %d cleanstats runs: %v", run+1, renamerErr)
		default:
		}
		if err := place(); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	<-renamerDone
	if renamerErr != nil {
		t.Fatalf("renamer: %v", renamerErr)
	}
	if nlink() == 0 {
		t.Fatal("the live file lost its last name")
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(live, &st); err != nil || st.Ino != liveIno {
		t.Errorf("the live file is not back at %s", live)
	}
	// A last run removes the stale files; nothing is left aside.
	if r := testutil.Run(t, nil, cleanstats(t), "-q", dir); r.Code != 0 {
		t.Errorf("last run: exit %d, stderr %q", r.Code, r.Stderr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != filepath.Base(live) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left in the directory: %v, want only %s", names, filepath.Base(live))
	}
	t.Logf("result: %d cleanstats runs, %d times a live file renamed over the stale file cleanstats had just opened; decisions: %v; live files lost: 0", runs, swaps.Load(), decisions)
}

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
