package clean

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil"
)

func TestParseProc(t *testing.T) {
	t.Run("starttime after a tricky comm", func(t *testing.T) {
		// comm may hold spaces and parentheses: count from the last ')'.
		stat := "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 8192 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
		got, err := parseStartTicks([]byte(stat))
		if err != nil || got != 123456 {
			t.Errorf("got %d, %v; want 123456", got, err)
		}
	})
	for _, bad := range []string{"", "4242 (x S 1", "4242 (x) S 1 2 3"} {
		if _, err := parseStartTicks([]byte(bad)); err == nil {
			t.Errorf("parseStartTicks(%q) did not fail", bad)
		}
	}
	status := "Name:\tsleep\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n"
	if uid, err := parseRealUID([]byte(status)); err != nil || uid != 1000 {
		t.Errorf("real uid: got %d, %v; want 1000 (the first number)", uid, err)
	}
	if _, err := parseRealUID([]byte("Name:\tx\n")); err == nil {
		t.Error("status without Uid did not fail")
	}
	if b, err := parseBootTime([]byte("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n")); err != nil || b != 1700000000 {
		t.Errorf("btime: got %d, %v", b, err)
	}
	if _, err := parseBootTime([]byte("cpu 1\n")); err == nil {
		t.Error("/proc/stat without btime did not fail")
	}
}

func TestSystemProbe(t *testing.T) {
	p := SystemProbe()
	t.Run("never signals a process group", func(t *testing.T) {
		for _, pid := range []int{0, -1, -os.Getpid(), 1 << 31} {
			if err := p.Signal(pid); err != unix.EINVAL {
				t.Errorf("Signal(%d) = %v, want EINVAL without calling kill", pid, err)
			}
		}
	})
	t.Run("exited child", func(t *testing.T) {
		if err := p.Signal(int(testutil.ExitedPID(t))); err != unix.ESRCH {
			t.Errorf("got %v, want ESRCH", err)
		}
	})
	t.Run("this process", func(t *testing.T) {
		if err := p.Signal(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		me, err := p.Process(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if me.UID != uint64(os.Getuid()) {
			t.Errorf("uid %d, want %d", me.UID, os.Getuid())
		}
		if me.Start > testutil.Now()+1 || me.Start < testutil.Now()-3600 {
			t.Errorf("start %v, now %v", me.Start, testutil.Now())
		}
	})
	t.Run("fresh child starts now", func(t *testing.T) {
		before := testutil.Now()
		child := testutil.StartSleep(t, nil)
		info, err := p.Process(child.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		// btime has a resolution of one second; the slack covers it.
		if d := info.Start - before; d < -DefaultStartSlack.Seconds() || d > 5 {
			t.Errorf("child started %.2fs after the test read the clock", d)
		}
	})
	t.Run("no such process", func(t *testing.T) {
		_, err := p.Process(int(testutil.ExitedPID(t)))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want ErrNotExist", err)
		}
	})
	t.Run("flock", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lock")
		holder, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		if err := unix.Flock(int(holder.Fd()), unix.LOCK_SH); err != nil {
			t.Fatal(err)
		}
		probe, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer probe.Close()
		start := time.Now()
		if got, err := p.TryLock(int(probe.Fd())); err != nil || got {
			t.Errorf("with a shared lock held: %v, %v; want false", got, err)
		}
		if time.Since(start) > time.Second {
			t.Error("TryLock blocked")
		}
		unix.Flock(int(holder.Fd()), unix.LOCK_UN)
		if got, err := p.TryLock(int(probe.Fd())); err != nil || !got {
			t.Errorf("with no lock held: %v, %v; want true", got, err)
		}
		// The lock taken blocks the writer's kind of lock until released.
		if err := unix.Flock(int(holder.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != syscall.EWOULDBLOCK {
			t.Errorf("shared lock while the probe holds it: %v", err)
		}
	})
}
