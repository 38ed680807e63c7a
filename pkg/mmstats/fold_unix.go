//go:build linux || darwin || freebsd

package mmstats

import (
	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fileid"
)

// openOwn opens the file at path read-only, without following a symlink,
// if it is still the file id; else it returns -1 and no error.
func openOwn(path string, id fileID) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT || err == unix.ELOOP {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || fileid.FromStat(&st) != id {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// openLocked is openOwn holding an exclusive lock on the file, as a
// Cleaner does to fold it; -1 and no error when another process holds a
// lock on it (a Cleaner folding it now).
func openLocked(path string, id fileID) (int, error) {
	fd, err := openOwn(path, id)
	if fd < 0 {
		return fd, err
	}
	for {
		switch err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err {
		case nil:
			return fd, nil
		case unix.EINTR:
			continue
		case unix.EWOULDBLOCK:
			unix.Close(fd)
			return -1, nil
		default:
			unix.Close(fd)
			return -1, err
		}
	}
}
