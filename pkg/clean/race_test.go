//go:build unix

package clean

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// raceIterations is how many removals TestRemoveRenameRace races:
// $MMSTATS_RACE_ITERATIONS (for a longer run), or def.
func raceIterations(t *testing.T, def int) int {
	if s := os.Getenv("MMSTATS_RACE_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("MMSTATS_RACE_ITERATIONS=%q: want a positive number", s)
		}
		return n
	}
	return def
}

// goFile returns a file of the Go writer's kind: sys.flock marks that its
// writer holds a shared lock while it lives.
func goFile(pid uint32) []byte {
	return v1file.Bytes(4096, append(v1file.PythonFields(pid, uint64(os.Getuid()), testutil.Now()),
		v1file.Unbuffered("sys.flock", "?", []byte{1}))...)
}

// TestRemoveRenameRace renames live files over a stale file's name while
// the Cleaner removes it, as a deploy script or a restarting service may.
// Two threads race: the renamer cycles "stale file to x; once the
// Cleaner's next call has begun, and a random part of a call's length
// more, live file over x; live file back", while the Cleaner removes x
// again and again. The live files must never lose their last name, nor
// stay aside. Half the cycles use Go writer files (the lock decides),
// half Python writer files (the PID decides). It counts the removals that
// raced a rename; the old removal (check the inode, then unlink the name)
// lost a live file in 43 to 60 of 2,000, with -race or without.
// $MMSTATS_RACE_ITERATIONS sets the number of removals (default 2,000).
func TestRemoveRenameRace(t *testing.T) {
	n := raceIterations(t, 2000)
	dir := shmDir(t)
	x := filepath.Join(dir, "x.mmstats")
	dead := testutil.ExitedPID(t)
	stales := [2][]byte{goFile(dead), v1file.Python(dead, uint64(os.Getuid()), testutil.Now())}
	lives := [2][]byte{goFile(dead), v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now())}

	// A live file: held by this process, with a shared lock on its own
	// open file description as the Go writer does (the Python writer's
	// file names this live process instead).
	type liveFile struct {
		path string
		fd   int
	}
	var liveIno [2]atomic.Uint64
	newLive := func(k int) (liveFile, error) {
		l := liveFile{path: filepath.Join(dir, "live"+strconv.Itoa(k)+".hold")}
		if err := os.WriteFile(l.path, lives[k], 0o644); err != nil {
			return l, err
		}
		var err error
		if l.fd, err = unix.Open(l.path, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return l, err
		}
		var st unix.Stat_t
		unix.Fstat(l.fd, &st)
		liveIno[k].Store(st.Ino)
		return l, unix.Flock(l.fd, unix.LOCK_SH)
	}
	nlink := func(fd int) uint64 {
		var st unix.Stat_t
		unix.Fstat(fd, &st)
		return uint64(st.Nlink)
	}

	var stop atomic.Bool
	var cleaned atomic.Int64 // the Cleaner's finished calls
	var callNS atomic.Int64  // how long one takes (moving average, ns)
	callNS.Store(int64(20 * time.Microsecond))
	var lost, cycles atomic.Int64
	var renamerErr error
	renamerDone := make(chan struct{})
	go func() { // the renamer: no t.Fatal here
		defer close(renamerDone)
		renamerErr = func() error {
			var live [2]liveFile
			for k := range live {
				var err error
				if live[k], err = newLive(k); err != nil {
					return err
				}
			}
			defer func() {
				for _, l := range live {
					unix.Close(l.fd)
				}
			}()
			tmp := filepath.Join(dir, "stale.tmp")
			for i := 0; !stop.Load(); i++ {
				k := i % 2
				if err := os.WriteFile(tmp, stales[k], 0o644); err != nil {
					return err
				}
				if err := unix.Rename(tmp, x); err != nil { // only stale files or nothing are at x
					return err
				}
				// Leave the stale file there until the Cleaner's next call
				// has begun, and a random while more: the rename lands
				// before, during or after its removal.
				for c0 := cleaned.Load(); cleaned.Load() <= c0 && !stop.Load(); {
					runtime.Gosched()
				}
				// Up to a call's length (measured: -race makes it longer).
				for end := time.Now().Add(time.Duration(rand.Int64N(callNS.Load() + 1))); time.Now().Before(end); {
				}
				if err := unix.Rename(live[k].path, x); err != nil {
					return err
				}
				// Take the live file back; the Cleaner may hold it aside
				// for a moment, and put it back.
				for unix.Rename(x, live[k].path) != nil {
					if nlink(live[k].fd) == 0 {
						lost.Add(1)
						unix.Close(live[k].fd)
						var err error
						if live[k], err = newLive(k); err != nil {
							return err
						}
						break
					}
					if stop.Load() {
						return fmt.Errorf("live file %s: neither at %s nor back", live[k].path, x)
					}
					runtime.Gosched()
				}
				cycles.Add(1)
			}
			return nil
		}()
	}()

	// The Cleaner: each removal it attempts is a trial. A trial races when
	// what it moved aside was the live file, or when the live file came
	// between its check and its move (the old removal's window).
	var trials, raced, caught, staleAside int
	isLive := func(path string) bool {
		var st unix.Stat_t
		return unix.Lstat(path, &st) == nil && (st.Ino == liveIno[0].Load() || st.Ino == liveIno[1].Load())
	}
	count := func(r *Result) {
		switch {
		case r.Decision == Removed:
			trials++
		case r.Reason == Replaced:
			trials++
			raced++
		case r.Reason == NameTaken && !isLive(r.MovedTo):
			// A stale file came over the name and was moved aside;
			// the renamer put the next one there meanwhile.
			trials++
			raced++
			staleAside++
		case r.Reason == NameTaken:
			t.Errorf("a live file was left aside: %v", r.Err)
		case r.Decision == Alive, r.Reason == Vanished:
		default:
			t.Errorf("%v (%v, %v)", r.Decision, r.Reason, r.Err)
		}
	}
	c := &Cleaner{afterAside: func(_, aside string) {
		if isLive(filepath.Join(dir, aside)) {
			caught++
		}
	}}
	const batch = 100 // one Clean call, one directory descriptor
	paths := make([]string, batch)
	for i := range paths {
		paths[i] = x
	}
	calls := 0
	for ; trials < n && calls < 5000*n; calls += batch {
		last := time.Now()
		c.Clean(paths, func(r *Result) error {
			now := time.Now()
			callNS.Store((7*callNS.Load() + int64(now.Sub(last))) / 8)
			last = now
			cleaned.Add(1)
			count(r)
			return nil
		})
		select {
		case <-renamerDone:
			t.Fatalf("renamer: %v", renamerErr)
		default:
		}
	}
	stop.Store(true)
	<-renamerDone
	if renamerErr != nil {
		t.Fatalf("renamer: %v", renamerErr)
	}
	t.Logf("%d removals raced %d renamer cycles: %d found another file in place of the stale one (kept), %d of them after moving a live file aside (put back), %d a stale one left aside (name taken); live files lost: %d",
		trials, cycles.Load(), raced, caught, staleAside, lost.Load())
	if lost.Load() > 0 {
		t.Errorf("a live file lost its last name %d times in %d removals", lost.Load(), trials)
	}
	if trials < n {
		t.Errorf("only %d removals in %d calls", trials, calls)
	}

	// A later run removes the stale files left aside, and nothing else.
	paths, err := Matches(dir, DefaultPattern)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cleanAll(t, &Cleaner{}, paths...) {
		if r.Kind == Aside && r.Decision != Removed {
			t.Errorf("%s: %v (%v, %v)", r.Path, r.Decision, r.Reason, r.Err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if KindOf(e.Name()) == Aside {
			t.Errorf("%s left aside", e.Name())
		}
	}
}

// shmDir returns a new directory in /dev/shm (tmpfs: file operations cost
// little) or, without it, the test's temporary directory.
func shmDir(t *testing.T) string {
	d, err := os.MkdirTemp("/dev/shm", "cleantest-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
