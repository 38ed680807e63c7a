//go:build unix

package clean

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil"
)

func TestSystemProbe(t *testing.T) {
	p := SystemProbe()
	t.Run("never signals a process group", func(t *testing.T) {
		for _, pid := range []int{0, -1, -os.Getpid(), int(min(1<<31, math.MaxInt))} {
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
		skipNoProcessTable(t, err)
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
		skipNoProcessTable(t, err)
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
		skipNoProcessTable(t, err)
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

// skipNoProcessTable skips a test of Process where the system's process
// table cannot be read (the package documentation, "Other systems").
func skipNoProcessTable(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("uid and start time are not checked here: %v", err)
	}
}
