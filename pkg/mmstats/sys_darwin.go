package mmstats

// What the writer does differently on macOS: renamex_np, and the process
// ID for the thread ID.

import (
	"errors"

	"golang.org/x/sys/unix"
)

// renameNoReplace moves from to to, failing with EEXIST if to exists.
func renameNoReplace(from, to string) error {
	err := unix.RenamexNp(from, to, unix.RENAME_EXCL)
	if !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return linkNoReplace(from, to) // a file system without RENAME_EXCL
}

// exchange swaps the files at a and b atomically. ok is false when the
// file system cannot (the caller then checks and renames).
func exchange(a, b string) (ok bool, err error) {
	err = unix.RenamexNp(a, b, unix.RENAME_SWAP)
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EINVAL) {
		return false, nil
	}
	return true, err
}

// gettid returns the process ID: macOS has a thread ID only behind
// pthread_threadid_np, which Go cannot call without cgo (its system call,
// thread_selfid, is not a stable interface). sys.tid and {TID} in file
// names are then the process ID, which names a Go process's files as
// well: the writer refuses a second file under a name it already holds.
func gettid() int { return unix.Getpid() }
