//go:build unix && !(linux && (amd64 || arm64))

package fdio

import "golang.org/x/sys/unix"

// The *at system calls that name a file in a directory, as the unix
// package makes them (at_linux.go makes them without allocating).

// OpenAt opens name in directory dir with flags (openat(2), no mode: it
// creates nothing), made again when a signal interrupts it.
func OpenAt(dir int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dir, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// StatAt is fstatat(2) of name in directory dir.
func StatAt(dir int, name string, st *unix.Stat_t, flags int) error {
	return unix.Fstatat(dir, name, st, flags)
}

// UnlinkAt is unlinkat(2) of name in directory dir.
func UnlinkAt(dir int, name string, flags int) error { return unix.Unlinkat(dir, name, flags) }
