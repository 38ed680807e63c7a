package pollstats

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The mapping helper on Linux (mapper.go): the process, its socket and
// the region, a memfd both map.

// mapperEnv names the environment variable that makes pollstats the
// helper (MapperMain): its value is pollstats' PID and the region's
// stride, "PID,STRIDE". The socket is descriptor 3, the region's memfd 4.
const mapperEnv = "POLLSTATS_MAPPING_HELPER"

// fdConn is a helper's socket, non-blocking, with the region.
type fdConn struct {
	fd    int
	words []uint64
	raw   []byte
	done  func() // ends the helper
}

// startMapperProcess starts pollstats again as the helper, for a region
// of slots slots of stride words.
func startMapperProcess(slots, stride int) (mapperConn, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startMapperWith(slots, stride, func(sock, mem *os.File) (func(), error) {
		cmd := exec.Command(exe)
		cmd.Args = []string{"pollstats (mapping helper)"}
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d", mapperEnv, os.Getpid(), stride))
		cmd.ExtraFiles = []*os.File{sock, mem}
		// Its own process group: a Ctrl-C at the terminal is pollstats'
		// to handle (the helper ends when its socket closes).
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return func() {
			// Its socket closed, it exits; one that does not is killed,
			// and reaped when it goes (a process stuck in the kernel may
			// take its time: pollstats does not wait for it).
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			select {
			case <-exited:
			case <-time.After(mapperTimeout):
				cmd.Process.Kill()
			}
		}, nil
	})
}

// startMapperWith makes the socket pair and the region, and starts the
// helper with run, given the helper's ends; it returns what stops it,
// called once pollstats' socket is closed.
func startMapperWith(slots, stride int, run func(sock, mem *os.File) (stop func(), err error)) (mapperConn, error) {
	size := slots * stride * 8
	mfd, err := unix.MemfdCreate("pollstats-words", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(mfd), "pollstats-words")
	defer mem.Close()
	if err := unix.Ftruncate(mfd, int64(size)); err != nil {
		return nil, err
	}
	raw, err := unix.Mmap(mfd, 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		unix.Munmap(raw)
		return nil, err
	}
	theirs := os.NewFile(uintptr(pair[1]), "pollstats-helper")
	defer theirs.Close()
	if err := unix.SetNonblock(pair[0], true); err != nil {
		unix.Close(pair[0])
		unix.Munmap(raw)
		return nil, err
	}
	done, err := run(theirs, mem)
	if err != nil {
		unix.Close(pair[0])
		unix.Munmap(raw)
		return nil, err
	}
	return &fdConn{fd: pair[0], words: regionWords(raw), raw: raw, done: done}, nil
}

// regionWords is the region as words (its length a multiple of 8, its
// start a page's). This file's unsafe: that, and the buffers of the raw
// system calls (send, recv).
func regionWords(b []byte) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
}

func (c *fdConn) region() []uint64 { return c.words }

// send writes b whole, waiting at most timeout for room each time. The
// socket is non-blocking: its writes and reads are raw system calls,
// which cannot wait (a system call through the runtime wakes its
// monitor, see lineWriter); only await waits, in the runtime's way.
func (c *fdConn) send(b []byte, timeout time.Duration) error {
	for len(b) > 0 {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
			unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			b = b[n:]
		case unix.EAGAIN:
			if err := c.await(unix.POLLOUT, timeout); err != nil {
				return err
			}
		case unix.EINTR:
		default:
			return e
		}
	}
	return nil
}

// recv reads len(b) bytes, waiting at most timeout for each.
func (c *fdConn) recv(b []byte, timeout time.Duration) error {
	for len(b) > 0 {
		n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		switch {
		case e == unix.EAGAIN:
			if err := c.await(unix.POLLIN, timeout); err != nil {
				return err
			}
		case e == unix.EINTR:
		case e != 0:
			return e
		case n == 0:
			return errMapperExited
		default:
			b = b[n:]
		}
	}
	return nil
}

// await waits for the socket to be ready for ev.
func (c *fdConn) await(ev int16, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("no answer in %v", timeout)
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: ev}}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if err == unix.EINTR || err == nil && n == 0 {
			continue
		}
		if err != nil {
			return err
		}
		return nil // ready, or an error or hang-up that the next call reports
	}
}

func (c *fdConn) stop() {
	unix.Close(c.fd)
	c.done()
	unix.Munmap(c.raw)
}

// MapperMode reports whether this process was started as pollstats'
// mapping helper (see MapperMain).
func MapperMode() bool { return os.Getenv(mapperEnv) != "" }

// MapperMain runs pollstats' mapping helper (mapper.go) in this process,
// started by pollstats with its socket and region as descriptors 3 and
// 4, and returns its exit code once pollstats closes the socket or
// dies. It prints nothing: pollstats says why it gave up on it.
func MapperMain() int {
	var parent, stride int
	if _, err := fmt.Sscanf(os.Getenv(mapperEnv), "%d,%d", &parent, &stride); err != nil || stride < 2 || os.Getppid() != parent {
		// Not started by pollstats: a variable left in a user's
		// environment says so rather than exiting without a word.
		fmt.Fprintf(os.Stderr, "pollstats: %s is set: that variable is for pollstats' own helper; unset it\n", mapperEnv)
		return 2
	}
	// Gone with pollstats even if the socket were kept open elsewhere;
	// and pollstats may have died before this was set.
	if unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0) != nil || os.Getppid() != parent {
		return 1
	}
	// A signal to the whole group or cgroup (a terminal's, a service
	// manager's) is pollstats' to take: the helper goes when it does.
	signal.Ignore(unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(gcPercent)
	var st unix.Stat_t
	if unix.Fstat(4, &st) != nil || st.Size <= 0 || st.Size%8 != 0 {
		return 2
	}
	raw, err := unix.Mmap(4, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return 1
	}
	unix.Close(4)
	sock := os.NewFile(3, "socket")
	if serveMapper(sock, sock, regionWords(raw), stride, debug.FreeOSMemory) != nil {
		return 1
	}
	return 0
}
