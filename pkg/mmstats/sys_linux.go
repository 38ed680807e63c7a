package mmstats

// What the writer does differently on Linux: unnamed files (O_TMPFILE),
// fallocate, renameat2 and gettid.

import (
	"errors"
	"strconv"

	"golang.org/x/sys/unix"
)

// useUnnamed says whether to build files with O_TMPFILE when the file
// system supports it; tests turn it off to exercise the named fallback.
var useUnnamed = true

// useRenameat2 says whether to rename with renameat2; tests turn it off
// to exercise the fallbacks of the file systems (and systems) without it.
var useRenameat2 = true

// openLock is added to createExclusive's flags: Linux cannot lock at open.
const openLock = 0

// mapNoReserve keeps the anonymous memory of a closed file out of the
// commit charge.
const mapNoReserve = unix.MAP_NORESERVE

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

// renameNoReplace moves from to to, failing with EEXIST if to exists.
func renameNoReplace(from, to string) error {
	if !useRenameat2 {
		return linkNoReplace(from, to)
	}
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if err == nil || !(errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS)) {
		return err
	}
	return linkNoReplace(from, to)
}

// exchange swaps the files at a and b atomically. ok is false when the
// file system cannot (the caller then checks and renames).
func exchange(a, b string) (ok bool, err error) {
	if !useRenameat2 {
		return false, nil
	}
	err = unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return false, nil
	}
	return true, err
}

func gettid() int { return unix.Gettid() }
