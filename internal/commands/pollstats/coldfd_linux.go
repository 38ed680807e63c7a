package pollstats

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// noAtime is the flag that spares a read the update of the file's access
// time (O_NOATIME): pollstats reads tens of thousands of files each
// interval, and even relatime's checks cost some 4% of that. The kernel
// allows it to the file's owner and to root only (EPERM otherwise).
const noAtime = unix.O_NOATIME

// openAt opens name in the directory dirfd read-only without blocking,
// with flags (0 or noAtime) added,
// as openWords opens a path, without allocating: the name is copied,
// with its NUL, into buf (unix.Openat would allocate that copy for each
// of the thousands of files opened every interval past the descriptor
// budget, garbage the collector must then come for). This file is the
// only one of the package that uses unsafe: the pointer to the name for
// the system call.
func openAt(dirfd int, name string, buf *[]byte, flags int) (int, error) {
	b := append(append((*buf)[:0], name...), 0)
	*buf = b
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&b[0])),
			uintptr(unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|flags), 0, 0, 0)
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return -1, e
	}
}
