//go:build unix

package reader

// The system calls of the reader on Unix: opening, statting, reading and
// mapping a file. sys_windows.go has the same functions for Windows, and
// nothing else in the package calls the kernel.

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fileid"
)

// fileStat is what the package needs of a file's status.
type fileStat struct {
	Dev, Ino uint64
	Size     int64
}

// openRegular opens path read-only without blocking (a FIFO cannot hang
// it) and returns the descriptor only if it is a regular file. With
// noFollow, a symlink is refused (O_NOFOLLOW).
func openRegular(path string, noFollow bool) (fd int, fs fileStat, err error) {
	// Refuse non-regular files before opening them: opening some devices
	// has side effects.
	var st unix.Stat_t
	if noFollow {
		err = unix.Lstat(path, &st)
	} else {
		err = unix.Stat(path, &st)
	}
	if err != nil {
		return -1, fs, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return -1, fs, ErrSymlink
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return -1, fs, ErrNotRegular
	}
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	if noFollow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err = unix.Open(path, flags, 0)
	if err != nil {
		if err == unix.ELOOP && noFollow {
			err = ErrSymlink
		}
		return -1, fs, err
	}
	// The path may have been swapped between the stat and the open.
	if err = unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fs, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, fs, ErrNotRegular
	}
	return fd, fileStat{Dev: uint64(st.Dev), Ino: st.Ino, Size: st.Size}, nil
}

func closeFD(fd int) error { return unix.Close(fd) }

// pread reads into b from offset off of fd, as pread(2).
func pread(fd int, b []byte, off int64) (int, error) { return unix.Pread(fd, b, off) }

// withFile calls fn with the descriptor of file (OpenFile's), if it is a
// regular file. The descriptor stays file's.
func withFile(file *os.File, fn func(o opened) error) error {
	rc, err := file.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		var st unix.Stat_t
		if ferr = unix.Fstat(int(fd), &st); ferr != nil {
			return
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			ferr = ErrNotRegular
			return
		}
		ferr = fn(opened{fd: int(fd), size: int(st.Size), id: fileid.FromStat(&st)})
	}); err != nil {
		return err
	}
	return ferr
}
