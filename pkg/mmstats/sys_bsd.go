//go:build darwin || freebsd

package mmstats

// What macOS and FreeBSD do alike: no unnamed files, so every file is
// built under a named temporary name, born locked (O_SHLOCK); no
// fallocate that every file system honours, so blocks are reserved by
// writing zeros.

import (
	"errors"

	"golang.org/x/sys/unix"
)

// useUnnamed has no effect here: there is no O_TMPFILE.
var useUnnamed = true

// openLock makes createExclusive take the shared lock in the same call
// that creates the file: cleanstats never sees the temporary file
// unlocked, not even for a moment.
const openLock = unix.O_SHLOCK

// mapNoReserve is 0: MAP_NORESERVE is a no-op on macOS and gone from
// FreeBSD.
const mapNoReserve = 0

// openUnnamed always reports that no unnamed file can be made.
func openUnnamed(string) (fd int, ok bool, err error) { return -1, false, nil }

// linkUnnamed is never called: openUnnamed never succeeds.
func linkUnnamed(int, string) error { return errors.ErrUnsupported }

// reserveBlocks makes the new, empty file fd size bytes long by writing
// zeros, which allocates its blocks, so that writing to a mapping of it
// does not fault for want of space: a full file system is ENOSPC here.
// (posix_fallocate and F_PREALLOCATE do no more, and ZFS refuses the
// former.)
func reserveBlocks(fd, size int) error { return pwriteAll(fd, make([]byte, size), 0) }
