package mmstats

// What the writer does differently on FreeBSD: no renameat2, and thr_self
// for the thread ID.

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// renameNoReplace moves from to to, failing with EEXIST if to exists:
// link(2), then unlink the temporary name.
func renameNoReplace(from, to string) error { return linkNoReplace(from, to) }

// exchange reports that names cannot be exchanged atomically here (the
// caller then checks and renames).
func exchange(a, b string) (ok bool, err error) { return false, nil }

// gettid returns the calling thread's ID (thr_self), or the process ID.
func gettid() int {
	var tid int64
	if _, _, e := unix.Syscall(unix.SYS_THR_SELF, uintptr(unsafe.Pointer(&tid)), 0, 0); e != 0 {
		return unix.Getpid()
	}
	return int(tid)
}
