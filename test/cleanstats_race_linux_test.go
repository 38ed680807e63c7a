//go:build unix

package test

// cleanstats against live files renamed over stale ones while it removes
// them. Linux only: the renamer follows cleanstats with inotify.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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
