//go:build linux

package mmstats

// The system calls of the writer: creating, mapping, locking, syncing and
// renaming its file. Nothing else in the package calls the kernel.

import (
	"errors"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"
)

// createExclusive creates path, failing if anything (a file or a symlink)
// is already there; it never follows a symlink.
func createExclusive(path string) (int, error) {
	return unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
}

// lockShared takes the shared lock that tells cleanstats this writer lives.
// The kernel drops it when the process dies.
func lockShared(fd int) error { return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) }

func resize(fd int, size int) error { return unix.Ftruncate(fd, int64(size)) }

func chmod(fd int, mode uint32) error { return unix.Fchmod(fd, mode) }

func closeFD(fd int) error { return unix.Close(fd) }

// mapReserve maps reserve bytes of fd shared and writable. Only the first
// (file size) bytes may be touched; growing the file with resize makes more
// of the same mapping usable without moving it, so pointers into it stay
// valid for the life of the process.
func mapReserve(fd, reserve int) ([]byte, error) {
	return unix.Mmap(fd, 0, reserve, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

// detach replaces the file mapping by private anonymous memory holding the
// same bytes, at the same address. A goroutine that still writes to a field
// after Close then writes to memory that stays valid instead of faulting.
func detach(mem []byte, used int) error {
	saved := make([]byte, used)
	copyNoFault(saved, mem[:used])
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(unsafe.SliceData(mem)), uintptr(len(mem)),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED|unix.MAP_NORESERVE)
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

// renameNoReplace moves from to to, failing with EEXIST if to exists.
func renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if err == nil || !(errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS)) {
		return err
	}
	// The file system cannot rename without replacing: link(2) never
	// replaces, then drop the temporary name.
	if err := unix.Link(from, to); err != nil {
		return err
	}
	return unix.Unlink(from)
}

// fileID identifies a file by device and inode.
type fileID struct{ dev, ino uint64 }

// fdID returns the identity of the open file fd.
func fdID(fd int) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileID{}, err
	}
	return fileID{uint64(st.Dev), st.Ino}, nil
}

// pathID returns the identity of path without following a symlink, and
// whether it is a regular file.
func pathID(path string) (id fileID, regular bool, err error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fileID{}, false, err
	}
	return fileID{uint64(st.Dev), st.Ino}, st.Mode&unix.S_IFMT == unix.S_IFREG, nil
}

func unlink(path string) error { return unix.Unlink(path) }

func gettid() int { return unix.Gettid() }

func unmap(mem []byte) error { return unix.Munmap(mem) }
