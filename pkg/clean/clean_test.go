//go:build unix

package clean

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// cleanAll runs c over paths and returns the results by path.
func cleanAll(t *testing.T, c *Cleaner, paths ...string) map[string]Result {
	t.Helper()
	got := map[string]Result{}
	err := c.Clean(paths, func(r *Result) error {
		got[r.Path] = *r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

type want struct {
	decision Decision
	reason   Reason
	err      error // the result's error wraps it, if set
	remains  bool  // the path is still there afterwards
}

func check(t *testing.T, got map[string]Result, wants map[string]want) {
	t.Helper()
	for path, w := range wants {
		r, ok := got[path]
		if !ok {
			t.Errorf("%s: no result", filepath.Base(path))
			continue
		}
		if r.Decision != w.decision || r.Reason != w.reason {
			t.Errorf("%s: got %v (%v, %v), want %v (%v)", filepath.Base(path), r.Decision, r.Reason, r.Err, w.decision, w.reason)
		}
		if w.err != nil && !errors.Is(r.Err, w.err) {
			t.Errorf("%s: err %v, want %v", filepath.Base(path), r.Err, w.err)
		}
		if testutil.Exists(t, path) != w.remains {
			t.Errorf("%s: exists = %v, want %v", filepath.Base(path), !w.remains, w.remains)
		}
	}
}

// TestCleanNeverRemoves covers everything that must stay: symlinks (and
// their targets), directories, FIFOs, invalid files, files without a
// usable sys.pid, live writers.
func TestCleanNeverRemoves(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	dead := testutil.ExitedPID(t)
	target := testutil.WriteFile(t, elsewhere, "target.mmstats", v1file.Python(dead, uint64(os.Getuid()), testutil.Now()-10))
	link := filepath.Join(dir, "link.mmstats")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.mmstats")
	os.Symlink(filepath.Join(elsewhere, "none"), dangling)
	fifo := filepath.Join(dir, "fifo.mmstats")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.mmstats")
	os.Mkdir(sub, 0o755)
	invalid := testutil.WriteFile(t, dir, "invalid.mmstats", []byte("not a stats file\n"))
	empty := testutil.WriteFile(t, dir, "empty.mmstats", nil)
	noPID := testutil.WriteFile(t, dir, "nopid.mmstats", v1file.Bytes(4096, v1file.PythonFields(dead, 0, 1)[1:]...))
	zero := testutil.WriteFile(t, dir, "zero.mmstats", v1file.Python(0, 0, testutil.Now()))
	minus := testutil.WriteFile(t, dir, "minus.mmstats", v1file.Bytes(4096, v1file.Unbuffered("sys.pid", "i", v1file.U32(0xffffffff))))
	live := testutil.WriteFile(t, dir, "live.mmstats", v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now()))
	w, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "writer.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Remove()

	done := make(chan map[string]Result)
	go func() { // no t.Fatal here: not the test's goroutine
		got := map[string]Result{}
		(&Cleaner{}).Clean([]string{link, dangling, fifo, sub, invalid, empty, noPID, zero, minus, live, w.Path(), filepath.Join(dir, "missing.mmstats")},
			func(r *Result) error { got[r.Path] = *r; return nil })
		done <- got
	}()
	var got map[string]Result
	select {
	case got = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Clean hangs (on the FIFO?)")
	}
	check(t, got, map[string]want{
		link:     {Skipped, Symlink, reader.ErrSymlink, true},
		dangling: {Skipped, Symlink, reader.ErrSymlink, true},
		fifo:     {Skipped, NotRegular, reader.ErrNotRegular, true},
		sub:      {Skipped, NotRegular, reader.ErrNotRegular, true},
		invalid:  {Skipped, Invalid, reader.ErrVersion, true},
		empty:    {Skipped, Invalid, reader.ErrEmpty, true},
		noPID:    {Skipped, NoPID, ErrNoPID, true},
		zero:     {Skipped, Invalid, ErrBadPID, true},
		minus:    {Skipped, Invalid, ErrBadPID, true},
		live:     {Alive, ProcessAlive, nil, true},
		w.Path(): {Alive, LockHeld, nil, true},
	})
	if !testutil.Exists(t, target) {
		t.Error("the symlink's target was removed")
	}
	if r := got[filepath.Join(dir, "missing.mmstats")]; r.Decision != Skipped || r.Reason != Vanished {
		t.Errorf("missing file: %v (%v)", r.Decision, r.Reason)
	}
	if r := got[live]; r.Process == nil || r.Process.UID != uint64(os.Getuid()) {
		t.Errorf("live file: process %+v", r.Process)
	}
}

// TestCleanRemovesStale covers each way a writer is found gone, with real
// processes, and the dry run.
func TestCleanRemovesStale(t *testing.T) {
	uid := uint64(os.Getuid())
	child := testutil.StartSleep(t, nil)
	childPID := uint32(child.Process.Pid)
	setup := func(t *testing.T) (dir string, paths map[string]string) {
		dir = t.TempDir()
		closed, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "closed.mmstats"})
		if err != nil {
			t.Fatal(err)
		}
		closed.Close() // the lock goes, the file stays
		return dir, map[string]string{
			"exited":  testutil.WriteFile(t, dir, "exited.mmstats", v1file.Python(testutil.ExitedPID(t), uid, testutil.Now())),
			"reused":  testutil.WriteFile(t, dir, "reused.mmstats", v1file.Python(childPID, uid, testutil.Now()-600)),
			"owner":   testutil.WriteFile(t, dir, "owner.mmstats", v1file.Python(childPID, uid+1, testutil.Now())),
			"child":   testutil.WriteFile(t, dir, "child.mmstats", v1file.Python(childPID, uid, testutil.Now())),
			"unowned": testutil.WriteFile(t, dir, "unowned.mmstats", v1file.Bytes(4096, v1file.Unbuffered("app.sys.pid", "I", v1file.U32(childPID)))),
			"closed":  closed.Path(),
		}
	}
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprintf("dry-run=%v", dry), func(t *testing.T) {
			_, p := setup(t)
			stale := Removed
			if dry {
				stale = WouldRemove
			}
			got := cleanAll(t, &Cleaner{DryRun: dry}, p["exited"], p["reused"], p["owner"], p["child"], p["unowned"], p["closed"])
			check(t, got, map[string]want{
				p["exited"]:  {stale, NoProcess, nil, dry},
				p["reused"]:  {stale, StartedAfter, nil, dry},
				p["owner"]:   {stale, OtherUID, nil, dry},
				p["child"]:   {Alive, ProcessAlive, nil, true},
				p["unowned"]: {Alive, ProcessAlive, nil, true},
				p["closed"]:  {stale, LockFree, nil, dry},
			})
			if r := got[p["child"]]; r.Writer.PID != int64(childPID) || r.Err != nil {
				t.Errorf("child: %+v", r)
			}
		})
	}
	t.Run("after the child exits", func(t *testing.T) {
		_, p := setup(t)
		child.Process.Kill()
		child.Wait()
		got := cleanAll(t, &Cleaner{}, p["child"], p["unowned"])
		check(t, got, map[string]want{
			p["child"]:   {Removed, NoProcess, nil, false},
			p["unowned"]: {Removed, NoProcess, nil, false},
		})
	})
}

// TestCleanWriterProcess runs a real writer process, which holds its lock
// until it exits and leaves its file behind (-keep).
func TestCleanWriterProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(testutil.Binary(t, "internal/testwriter"), "-dir", dir, "-name", "w.mmstats", "-keep")
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make([]byte, 4096)
	n, err := out.Read(line)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "w.mmstats")
	if got := string(line[:n]); got != path+"\n" {
		t.Fatalf("writer printed %q", got)
	}
	if r := (&Cleaner{}).CleanFile(path); r.Decision != Alive || r.Reason != LockHeld {
		t.Fatalf("live writer: %v (%v, %v)", r.Decision, r.Reason, r.Err)
	}
	stdin.Close()
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if r := (&Cleaner{}).CleanFile(path); r.Decision != Removed || r.Reason != LockFree {
		t.Fatalf("exited writer: %v (%v, %v)", r.Decision, r.Reason, r.Err)
	}
	if testutil.Exists(t, path) {
		t.Error("the file of the exited writer is still there")
	}
}

// TestCleanReplaced swaps the file between the decision and the removal:
// whatever is there then stays, and is never moved aside, not even for
// a moment (a restarted writer's new file would be missing from its
// name meanwhile).
func TestCleanReplaced(t *testing.T) {
	stale := v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now())
	swaps := map[string]func(t *testing.T, path string) (Reason, bool){
		"renamed over": func(t *testing.T, path string) (Reason, bool) {
			tmp := testutil.WriteFile(t, filepath.Dir(path), "new", stale)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
			return Replaced, true
		},
		"symlink": func(t *testing.T, path string) (Reason, bool) {
			os.Remove(path)
			if err := os.Symlink("/etc/passwd", path); err != nil {
				t.Fatal(err)
			}
			return Replaced, true
		},
		"directory": func(t *testing.T, path string) (Reason, bool) {
			os.Remove(path)
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return Replaced, true
		},
		"removed": func(t *testing.T, path string) (Reason, bool) {
			os.Remove(path)
			return Vanished, false
		},
	}
	for name, swap := range swaps {
		t.Run(name, func(t *testing.T) {
			path := testutil.WriteFile(t, t.TempDir(), "x.mmstats", stale)
			var reason Reason
			var remains bool
			c := &Cleaner{beforeRemove: func(p string) {
				if p != path {
					t.Errorf("hook got %s", p)
				}
				reason, remains = swap(t, p)
			}}
			moved := false
			c.rename = func(dir int, from, to string) error {
				moved = true
				return renameNoReplace(dir, from, to)
			}
			r := c.CleanFile(path)
			if moved {
				t.Error("what took the name was moved aside")
			}
			if r.Decision != Skipped || r.Reason != reason {
				t.Errorf("got %v (%v, %v), want skipped (%v)", r.Decision, r.Reason, r.Err, reason)
			}
			if testutil.Exists(t, path) != remains {
				t.Errorf("exists = %v, want %v", !remains, remains)
			}
		})
	}
}

// TestCleanPermission: a failure is reported, and the run goes on.
func TestCleanPermission(t *testing.T) {
	stale := v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now())
	ro, rw := t.TempDir(), t.TempDir()
	a := testutil.WriteFile(t, ro, "a.mmstats", stale)
	b := testutil.WriteFile(t, rw, "b.mmstats", stale)
	c := &Cleaner{}
	if os.Geteuid() == 0 {
		// Root ignores permissions: fail the removal in ro instead.
		c.rename = func(dir int, from, to string) error {
			var st, roSt unix.Stat_t
			unix.Fstat(dir, &st)
			unix.Stat(ro, &roSt)
			if st.Ino == roSt.Ino {
				return syscall.EACCES
			}
			return renameNoReplace(dir, from, to)
		}
	} else {
		os.Chmod(ro, 0o555)
		t.Cleanup(func() { os.Chmod(ro, 0o755) })
	}
	got := cleanAll(t, c, a, b)
	check(t, got, map[string]want{
		a: {Failed, RemoveFailed, syscall.EACCES, true},
		b: {Removed, NoProcess, nil, false},
	})
	if os.Geteuid() != 0 {
		unreadable := testutil.WriteFile(t, rw, "c.mmstats", stale)
		os.Chmod(unreadable, 0)
		check(t, cleanAll(t, c, unreadable), map[string]want{
			unreadable: {Failed, OpenFailed, syscall.EACCES, true},
		})
	}
}

// TestCleanInjectedProbe: the Cleaner asks its Probe, not the system.
func TestCleanInjectedProbe(t *testing.T) {
	dir := t.TempDir()
	marked := testutil.WriteFile(t, dir, "marked.mmstats", v1file.Bytes(4096, append(v1file.PythonFields(1, 0, testutil.Now()),
		v1file.Unbuffered("sys.flock", "?", []byte{1}))...))
	plain := testutil.WriteFile(t, dir, "plain.mmstats", v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now()))
	p := &fakeProbe{lock: []any{false}, signal: []error{syscall.ESRCH}}
	got := cleanAll(t, &Cleaner{Probe: p, DryRun: true}, marked, plain)
	check(t, got, map[string]want{
		marked: {Alive, LockHeld, nil, true},
		plain:  {WouldRemove, NoProcess, nil, true},
	})
}

// TestCleanStopsOnReportError: a report error ends the run.
func TestCleanStopsOnReportError(t *testing.T) {
	dir := t.TempDir()
	stale := v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now())
	a, b := testutil.WriteFile(t, dir, "a.mmstats", stale), testutil.WriteFile(t, dir, "b.mmstats", stale)
	stop := errors.New("stop")
	n := 0
	err := (&Cleaner{}).Clean([]string{a, b}, func(*Result) error { n++; return stop })
	if err != stop || n != 1 || !testutil.Exists(t, b) {
		t.Errorf("err %v, %d reports, b exists %v", err, n, testutil.Exists(t, b))
	}
}
