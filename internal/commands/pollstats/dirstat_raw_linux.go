//go:build linux && (amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x)

package pollstats

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatNow is fstat(2) of a directory's O_PATH descriptor, the look at
// it each interval, as a raw system call: one through the runtime wakes
// the runtime's monitor from its sleep between intervals, which then
// polls every 20 µs while the interval runs (see lineWriter). It does
// not wait on a local file system; on a network one it may wait for the
// server, as long as it would through the runtime, the interval's only
// goroutine waiting as long either way.
func fstatNow(fd int, st *unix.Stat_t) error {
	var empty byte // the path "": fd itself (AT_EMPTY_PATH)
	_, _, e := unix.RawSyscall6(unix.SYS_NEWFSTATAT, uintptr(fd), uintptr(unsafe.Pointer(&empty)), uintptr(unsafe.Pointer(st)), unix.AT_EMPTY_PATH, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
