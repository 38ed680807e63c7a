//go:build linux

package demo

// The system-specific parts of the supervision: how a worker learns that
// the supervisor died, and how a worker checks what it inherited.

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// workerAttr returns the attributes of a worker process: the kernel sends
// it SIGTERM when the supervisor dies, even by SIGKILL, and its SIGTERM
// handler removes its stats file. The signal is tied to the thread that
// started the worker; supervise keeps that thread (see LockOSThread).
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// isSocket reports whether fd is an open socket.
func isSocket(fd int) bool { return fdType(fd) == unix.S_IFSOCK }

// isPipe reports whether fd is an open pipe.
func isPipe(fd int) bool { return fdType(fd) == unix.S_IFIFO }

func fdType(fd int) uint32 {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0
	}
	return st.Mode & unix.S_IFMT
}
