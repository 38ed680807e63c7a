//go:build linux || darwin || freebsd

package mmstats

// The system calls of the writer that are the same on every system it
// supports (Linux, macOS, FreeBSD): mapping, locking, syncing, renaming
// and statting its file. What differs is in sys_linux.go, sys_bsd.go
// (macOS and FreeBSD), sys_darwin.go and sys_freebsd.go; elsewhere
// sys_other.go makes New fail. No other file of the package uses
// golang.org/x/sys/unix.

import (
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
	"github.com/mmstats/mmstats/internal/fileid"
)

// createExclusive creates path, failing if anything (a file or a symlink)
// is already there; it never follows a symlink. Where open can lock
// (openLock), the file is born holding the writer's shared lock.
func createExclusive(path string) (int, error) {
	return unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|openLock, 0o600)
}

// lockShared takes the shared lock that tells cleanstats this writer lives.
// The kernel drops it when the process dies. Taking it again on a file
// created holding it (openLock) changes nothing.
func lockShared(fd int) error { return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) }

// pwriteAll writes b at off.
func pwriteAll(fd int, b []byte, off int) error {
	for len(b) > 0 {
		n, err := unix.Pwrite(fd, b, int64(off))
		if err != nil {
			return err
		}
		b, off = b[n:], off+n
	}
	return nil
}

// preadAll reads len(b) bytes at off.
func preadAll(fd int, b []byte, off int) error {
	n, err := fdio.ReadAt(fd, b, int64(off))
	if err == nil && n < len(b) {
		err = unix.EIO // the file is shorter than it was made
	}
	return err
}

func chmod(fd int, mode uint32) error { return unix.Fchmod(fd, mode) }

func closeFD(fd int) error { return unix.Close(fd) }

// mapReserve maps reserve bytes of fd shared and writable. Only the first
// (file size) bytes may be touched. The range is the fields' home for the
// life of the process: growing replaces the file under it (remapFixed)
// without moving it, so pointers into it stay valid.
func mapReserve(fd, reserve int) ([]byte, error) {
	return unix.Mmap(fd, 0, reserve, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

// remapFixed maps fd over mem, at the same address, in one mmap call.
// The kernel replaces the old mapping while holding the process's mmap
// lock, so a thread writing a field meanwhile either writes the old file
// (before) or faults in the new one (after): never an unmapped address.
// When it returns, no thread can write to the old file through mem.
// (POSIX requires MAP_FIXED to replace the old mapping this way; Linux,
// macOS and FreeBSD all do.)
func remapFixed(fd int, mem []byte) error {
	_, err := unix.MmapPtr(fd, 0, unsafe.Pointer(unsafe.SliceData(mem)), uintptr(len(mem)),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_FIXED)
	return err
}

// detach replaces the file mapping by private anonymous memory holding the
// same bytes, at the same address. A goroutine that still writes to a field
// after Close then writes to memory that stays valid instead of faulting.
func detach(mem []byte, used int) error {
	saved := make([]byte, used)
	copyNoFault(saved, mem[:used])
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(unsafe.SliceData(mem)), uintptr(len(mem)),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED|mapNoReserve)
	if err != nil {
		return err
	}
	copy(mem, saved)
	return nil
}

// copyNoFault copies src to dst; if src is a mapping of a file that was
// truncated, the copy stops at the first page that faults (SIGBUS) instead
// of crashing.
func copyNoFault(dst, src []byte) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { recover() }()
	copy(dst, src)
}

func msync(mem []byte, async bool) error {
	flags := unix.MS_SYNC
	if async {
		flags = unix.MS_ASYNC
	}
	return unix.Msync(mem, flags)
}

func rename(from, to string) error { return unix.Rename(from, to) }

// fdID returns the identity of the open file fd.
func fdID(fd int) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileID{}, err
	}
	return fileid.FromStat(&st), nil
}

// pathID returns the identity of path without following a symlink, and
// whether it is a regular file.
func pathID(path string) (id fileID, regular bool, err error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fileID{}, false, err
	}
	return fileid.FromStat(&st), st.Mode&unix.S_IFMT == unix.S_IFREG, nil
}

func unlink(path string) error { return unix.Unlink(path) }

func unmap(mem []byte) error { return unix.Munmap(mem) }

// linkNoReplace is renameNoReplace where the system cannot rename without
// replacing: link(2) never replaces, then the temporary name goes.
func linkNoReplace(from, to string) error {
	if err := unix.Link(from, to); err != nil {
		return err
	}
	return unix.Unlink(from)
}
