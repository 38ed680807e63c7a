//go:build linux && (amd64 || arm64)

package fdio

// The *at system calls that name a file in a directory, made without
// allocating: the unix package copies each name into a new slice with a
// NUL at its end (four copies for a file removed, and one for every file
// opened), which the collector then frees; here the copy is on the stack
// of the call. unsafe is confined to this file.

import (
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cName is a name of a directory's entry with its NUL, on the stack:
// NAME_MAX (255) bytes and the NUL.
type cName [256]byte

// set copies name into c, NUL-terminated. It returns false for a name
// that does not fit or that holds a NUL: the unix package's call then
// fails as the system does (ENAMETOOLONG, EINVAL).
func (c *cName) set(name string) bool {
	if len(name) >= len(c) || strings.IndexByte(name, 0) >= 0 {
		return false
	}
	c[copy(c[:], name)] = 0
	return true
}

// The pointers to a cName are converted in the system calls' argument
// lists themselves, as unsafe.Pointer's rules ask: the name stays where
// it is until the call returns.

// OpenAt opens name in directory dir with flags (openat(2), no mode: it
// creates nothing), made again when a signal interrupts it.
func OpenAt(dir int, name string, flags int) (int, error) {
	var c cName
	if !c.set(name) {
		return unix.Openat(dir, name, flags, 0)
	}
	for {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(&c[0])), uintptr(flags|unix.O_LARGEFILE), 0, 0, 0)
		switch e {
		case 0:
			return int(fd), nil
		case unix.EINTR:
			continue
		}
		return -1, e
	}
}

// StatAt is fstatat(2) of name in directory dir.
func StatAt(dir int, name string, st *unix.Stat_t, flags int) error {
	var c cName
	if !c.set(name) {
		return unix.Fstatat(dir, name, st, flags)
	}
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dir), uintptr(unsafe.Pointer(&c[0])), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// UnlinkAt is unlinkat(2) of name in directory dir.
func UnlinkAt(dir int, name string, flags int) error {
	var c cName
	if !c.set(name) {
		return unix.Unlinkat(dir, name, flags)
	}
	_, _, e := unix.Syscall(unix.SYS_UNLINKAT, uintptr(dir), uintptr(unsafe.Pointer(&c[0])), uintptr(flags))
	if e != 0 {
		return e
	}
	return nil
}

// Rename2At is renameat2(2) of from to to, both in directory dir.
func Rename2At(dir int, from, to string, flags uint) error {
	var f, t cName
	if !f.set(from) || !t.set(to) {
		return unix.Renameat2(dir, from, dir, to, flags)
	}
	_, _, e := unix.Syscall6(unix.SYS_RENAMEAT2, uintptr(dir), uintptr(unsafe.Pointer(&f[0])), uintptr(dir), uintptr(unsafe.Pointer(&t[0])), uintptr(flags), 0)
	if e != 0 {
		return e
	}
	return nil
}
