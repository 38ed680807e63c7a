//go:build linux

package mmstats

// The system calls of the writer: creating, mapping, locking, syncing and
// renaming its file. Nothing else in the package calls the kernel.

import (
	"errors"
	"runtime/debug"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fileid"
)

// useUnnamed says whether to build files with O_TMPFILE when the file
// system supports it; tests turn it off to exercise the named fallback.
var useUnnamed = true

// openUnnamed opens a new file in dir that has no name yet (O_TMPFILE):
// if the process dies before linkUnnamed, nothing is left behind. ok is
// false when the kernel or the file system cannot do it (the caller then
// uses a named temporary file).
func openUnnamed(dir string) (fd int, ok bool, err error) {
	if !useUnnamed || unix.Access("/proc/self/fd", unix.X_OK) != nil {
		// Without /proc, linkat needs CAP_DAC_READ_SEARCH to name it.
		return -1, false, nil
	}
	fd, err = unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
		return -1, false, nil
	}
	return fd, err == nil, err
}

// linkUnnamed gives the unnamed file fd the name path. Like link(2), it
// never replaces anything at path (EEXIST).
func linkUnnamed(fd int, path string) error {
	return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
}

// createExclusive creates path, failing if anything (a file or a symlink)
// is already there; it never follows a symlink.
func createExclusive(path string) (int, error) {
	return unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
}

// lockShared takes the shared lock that tells cleanstats this writer lives.
// The kernel drops it when the process dies.
func lockShared(fd int) error { return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) }

// reserveBlocks makes the new, empty file fd size bytes long with its
// blocks allocated, so that writing to a mapping of it can never fault
// for want of space: a full file system is ENOSPC here, not a SIGBUS later.
func reserveBlocks(fd, size int) error {
	err := unix.Fallocate(fd, 0, 0, int64(size))
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	// The file system cannot preallocate: writing zeros allocates too.
	return pwriteAll(fd, make([]byte, size), 0)
}

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
	for len(b) > 0 {
		n, err := unix.Pread(fd, b, int64(off))
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.EIO // the file is shorter than it was made
		}
		b, off = b[n:], off+n
	}
	return nil
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

// exchange swaps the files at a and b atomically. ok is false when the
// file system cannot (the caller then checks and renames).
func exchange(a, b string) (ok bool, err error) {
	err = unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return false, nil
	}
	return true, err
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

func gettid() int { return unix.Gettid() }

func unmap(mem []byte) error { return unix.Munmap(mem) }
