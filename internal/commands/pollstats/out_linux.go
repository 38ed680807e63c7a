package pollstats

import (
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lineWriter returns what writes the lines to w. A line to a file, a
// pipe or a terminal goes out with raw system calls when they cannot
// wait: the descriptor polls writable, and the line is at most
// PIPE_BUF bytes, which a writable pipe takes whole. A system call
// through the runtime wakes the runtime's monitor from its sleep (it
// sleeps while no goroutine runs, as between intervals), which then
// polls every 20 µs while the interval runs; once an interval, that was
// a third of the context switches of pollstats. Anything else (a
// descriptor that is not writable, a line written in part, an error)
// goes through w as before, which waits in the runtime's way and
// reports the error (a closed pipe: SIGPIPE, as for any Go program).
func lineWriter(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return w
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return w
	}
	return &rawLines{f: f, rc: rc}
}

// rawLines is lineWriter's writer of a file.
type rawLines struct {
	f  *os.File
	rc syscall.RawConn
}

// pipeBuf is PIPE_BUF: a pipe that polls writable takes that many bytes
// whole, without waiting.
const pipeBuf = 4096

func (r *rawLines) Write(b []byte) (int, error) {
	n := 0
	if len(b) > 0 && len(b) <= pipeBuf {
		r.rc.Control(func(fd uintptr) { n = writeNow(int(fd), b) })
	}
	if n == len(b) {
		return n, nil
	}
	m, err := r.f.Write(b[n:])
	return n + m, err
}

// writeNow writes b to fd if fd polls writable, with raw system calls,
// and returns how many bytes it wrote (0 after an error).
func writeNow(fd int, b []byte) int {
	pfd := unix.PollFd{Fd: int32(fd), Events: unix.POLLOUT}
	var now unix.Timespec // a timeout of 0: poll and return
	n, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&now)), 0, 0, 0)
	if e != 0 || n != 1 || pfd.Revents != unix.POLLOUT {
		return 0
	}
	w, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0
	}
	return int(w)
}
