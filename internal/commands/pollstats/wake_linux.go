package pollstats

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdTimer is a timerfd read through the runtime's poller by a goroutine
// of its own, which sends a value on c at each expiry. Its reads and
// arming are raw system calls (they never block: the descriptor is
// non-blocking, and timerfd_settime returns at once), so that they do not
// wake the runtime's monitor as a system call through the runtime does
// when it sleeps; the goroutine waits in the poller, which wakes once,
// at the expiry, with nanosecond precision.
type fdTimer struct {
	f    *os.File
	rc   syscall.RawConn
	fd   int
	c    chan time.Time
	done chan struct{} // closed when the goroutine ends (after close)
	// broken says that a read failed: the goroutine ended, and after
	// waits on the runtime's timers.
	broken atomic.Bool
}

// newTimer returns a timerfd's timer, or the runtime's where there is no
// timerfd (a sandbox that refuses it).
func newTimer() timer {
	if t, err := newFDTimer(); err == nil {
		return t
	}
	return newRuntimeTimer()
}

func newFDTimer() (*fdTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "timerfd") // non-blocking: in the poller
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	t := &fdTimer{f: f, rc: rc, fd: fd, c: make(chan time.Time, 1), done: make(chan struct{})}
	go t.run()
	return t, nil
}

// run sends a value on t.c at each expiry, until t is closed.
func (t *fdTimer) run() {
	defer close(t.done)
	var b [8]byte // the count of expiries
	for {
		var e unix.Errno
		err := t.rc.Read(func(fd uintptr) bool {
			for {
				_, _, e = unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
				if e != unix.EINTR {
					return e != unix.EAGAIN // else wait until readable
				}
			}
		})
		if err != nil { // closed
			return
		}
		if e != 0 { // never seen: the runtime's timer from now on
			t.broken.Store(true)
			return
		}
		select {
		case t.c <- time.Time{}:
		default: // one is waiting already
		}
	}
}

// after arms t to expire once d has passed (at once for d <= 0), in
// place of any expiry armed before and not yet received.
func (t *fdTimer) after(d time.Duration) <-chan time.Time {
	if t.broken.Load() {
		return time.After(d)
	}
	select {
	case <-t.c: // an expiry not received (a signal came first)
	default:
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(max(d, 1)))} // 0 would disarm it
	if _, _, e := unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(t.fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		return time.After(d) // never seen: the arguments are valid
	}
	return t.c
}

// close ends the goroutine and closes the descriptor.
func (t *fdTimer) close() {
	t.f.Close()
	<-t.done
}
