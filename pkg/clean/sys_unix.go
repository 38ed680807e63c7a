//go:build unix

package clean

// The file system calls of a Cleaner, the same on every Unix but for
// renameNoReplace (rename_*.go). Every file is reached through a
// descriptor of its directory, so that the name checked, opened and
// unlinked is the same directory entry, and never through a symlink.

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
	"github.com/mmstats/mmstats/internal/fileid"
)

// fileStat is a file's status, as stat(2) returns it.
type fileStat = unix.Stat_t

func idOf(st *unix.Stat_t) fileID { return fileid.FromStat(st) }

// openDir opens a directory for the *at calls.
func openDir(path string) (int, error) {
	return retry(func() (int, error) {
		return unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
}

// lstatAt stats name in dir without following a symlink.
func lstatAt(dir int, name string, st *unix.Stat_t) error {
	_, err := retry(func() (int, error) {
		return 0, fdio.StatAt(dir, name, st, unix.AT_SYMLINK_NOFOLLOW)
	})
	return err
}

// openAt opens name in dir read-only, refusing a symlink (ELOOP) and
// without blocking, so that a FIFO swapped in cannot hang the run.
func openAt(dir int, name string) (int, error) {
	return retry(func() (int, error) {
		return fdio.OpenAt(dir, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC)
	})
}

func fstat(fd int, st *unix.Stat_t) error { return unix.Fstat(fd, st) }

// preadFull reads len(buf) bytes from offset 0, or up to the end of the
// file, and returns what it read.
func preadFull(fd int, buf []byte) ([]byte, error) {
	n, err := fdio.ReadAt(fd, buf, 0)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// unlinkAt removes name from dir; it refuses a directory (EISDIR).
func unlinkAt(dir int, name string) error { return fdio.UnlinkAt(dir, name, 0) }

// linkNoReplace renames from to to in dir where the system cannot rename
// without replacing: a hard link does it for a file; for anything else,
// to is checked to be free just before a plain rename.
func linkNoReplace(dir int, from, to string) error {
	switch err := unix.Linkat(dir, from, dir, to, 0); err {
	case nil:
		return unix.Unlinkat(dir, from, 0)
	case unix.EEXIST, unix.ENOENT:
		return err
	}
	var st unix.Stat_t
	if err := lstatAt(dir, to, &st); err != unix.ENOENT {
		if err == nil {
			return unix.EEXIST
		}
		return err
	}
	return unix.Renameat(dir, from, dir, to)
}

// lockExclusive tries to take an exclusive flock on fd without blocking;
// false means someone else holds a lock on the file. It keeps a lock fd
// already holds.
func lockExclusive(fd int) (bool, error) { return tryFlock(fd, unix.LOCK_EX) }

// lockShared tries to take a shared flock on fd without blocking; false
// means someone holds an exclusive lock on the file.
func lockShared(fd int) (bool, error) { return tryFlock(fd, unix.LOCK_SH) }

func tryFlock(fd, how int) (bool, error) {
	for {
		switch err := unix.Flock(fd, how|unix.LOCK_NB); err {
		case nil:
			return true, nil
		case unix.EWOULDBLOCK:
			return false, nil
		case unix.EINTR:
		default:
			return false, err
		}
	}
}

// mtime returns the modification time in st.
func mtime(st *unix.Stat_t) time.Time { return time.Unix(st.Mtim.Unix()) }

func closeFD(fd int) { unix.Close(fd) }

// typeName names the file type in st.Mode for messages.
func typeName(st *unix.Stat_t) string {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFREG:
		return "regular file"
	}
	return "unknown file type"
}

func isSymlink(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFLNK }
func isRegular(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFREG }

// retry repeats a call interrupted by a signal.
func retry(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != unix.EINTR {
			return n, err
		}
	}
}
