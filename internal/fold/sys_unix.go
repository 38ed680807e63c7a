//go:build unix

package fold

// The system calls of a fold, the same on every Unix but for
// renameNoReplace (rename_*.go). Every file is reached through a
// descriptor of its directory and never through a symlink.

import (
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
	"github.com/mmstats/mmstats/internal/fileid"
)

type fileStat = unix.Stat_t

func idOf(st *unix.Stat_t) fileid.ID { return fileid.FromStat(st) }

func isRegular(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFREG }

func fstat(fd int, st *unix.Stat_t) error { return retry(func() error { return unix.Fstat(fd, st) }) }

func lstatAt(dir int, name string, st *unix.Stat_t) error {
	return retry(func() error { return unix.Fstatat(dir, name, st, unix.AT_SYMLINK_NOFOLLOW) })
}

// openAt opens name in dir read-only, refusing a symlink (ELOOP), without
// blocking on a FIFO.
func openAt(dir int, name string) (fd int, err error) {
	err = retry(func() error {
		fd, err = unix.Openat(dir, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		return err
	})
	return fd, err
}

// createAt creates name in dir, failing if anything is there.
func createAt(dir int, name string) (fd int, err error) {
	err = retry(func() error {
		fd, err = unix.Openat(dir, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	return fd, err
}

// tryLock tries to take an exclusive flock on fd, without waiting.
func tryLock(fd int) (bool, error) {
	for {
		switch err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err {
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

// readFD reads the whole file fd (up to maxRead bytes).
func readFD(fd int) ([]byte, error) {
	var st unix.Stat_t
	if err := fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Size > maxRead {
		return nil, ErrTooLarge
	}
	buf := make([]byte, st.Size)
	n, err := fdio.ReadAt(fd, buf, 0)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func pwriteAll(fd int, b []byte) error {
	off := int64(0)
	for len(b) > 0 {
		n, err := unix.Pwrite(fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

func fchmod(fd int, mode uint32) error { return unix.Fchmod(fd, mode) }

func fchown(fd int, uid, gid uint32) error { return unix.Fchown(fd, int(uid), int(gid)) }

func renameAt(dir int, from, to string) error { return unix.Renameat(dir, from, dir, to) }

func unlinkAt(dir int, name string) error { return unix.Unlinkat(dir, name, 0) }

func closeFD(fd int) { unix.Close(fd) }

// linkNoReplace renames from to to in dir without replacing anything at
// to, where the system cannot rename so: link(2), then unlink(2).
func linkNoReplace(dir int, from, to string) error {
	if err := unix.Linkat(dir, from, dir, to, 0); err != nil {
		return err
	}
	return unix.Unlinkat(dir, from, 0)
}

func retry(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
}

// FoldPath folds the stats file at path, open as fd (see Source), for a
// writer that folds its own file: it opens the directory itself.
func FoldPath(path string, fd int, remove func()) (Result, error) {
	dir, err := unix.Open(filepath.Dir(path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Result{}, err
	}
	defer unix.Close(dir)
	return Fold(Source{Dir: dir, Name: filepath.Base(path), FD: fd, Remove: remove})
}
