//go:build unix

package demo

// The system-specific parts of the supervision: how a worker checks what
// it inherited, and the socket it inherits. How a worker learns that the
// supervisor died is in parent_linux.go and parent_other.go.

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// isSocket reports whether fd is an open socket.
func isSocket(fd int) bool { return fdType(fd) == unix.S_IFSOCK }

// isPipe reports whether fd is an open pipe.
func isPipe(fd int) bool { return fdType(fd) == unix.S_IFIFO }

func fdType(fd int) uint32 {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0
	}
	return uint32(st.Mode) & unix.S_IFMT // Mode is 16 bits on the BSDs
}

// socketFile returns a descriptor of ln's socket to pass to workers. It
// is not ln.File: exec calls Fd on the files it passes, and Fd puts a
// descriptor that the os package made non-blocking back in blocking mode.
// That mode belongs to the socket's open file description, which every
// worker shares: a worker blocked in accept(2) while the supervisor
// starts another one would stay blocked, deaf to its own shutdown, until
// a connection came. A duplicate the os package finds non-blocking is
// left as it is.
func socketFile(ln *net.TCPListener) (*os.File, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd int
	var dupErr error
	if err := rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, os.NewSyscallError("dup", dupErr)
	}
	return os.NewFile(uintptr(fd), "listener"), nil
}

// diedOfStop reports whether a process ended by SIGTERM or SIGINT, not
// catching it: a worker catches them from its first instructions on,
// before it creates its file, so one that died of them was stopped while
// it started, with no file to remove.
func diedOfStop(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGTERM || ws.Signal() == syscall.SIGINT)
}
