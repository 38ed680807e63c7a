package pollstats

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
)

// dirStamp is what changes when entries are added to, removed from or
// renamed in a directory, or the directory is replaced.
type dirStamp struct {
	dev, ino     uint64
	mtime, ctime unix.Timespec
}

// recent reports whether the directory changed less than window before now.
func (s dirStamp) recent(now time.Time, window time.Duration) bool {
	limit := now.Add(-window).UnixNano()
	return s.mtime.Nano() > limit || s.ctime.Nano() > limit
}

func statDir(dir string) (dirStamp, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return dirStamp{}, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	return dirStamp{dev: uint64(st.Dev), ino: uint64(st.Ino), mtime: st.Mtim, ctime: st.Ctim}, nil
}

// lstatID returns the ID of the directory entry at path.
func lstatID(path string) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return 0, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return fileID(st.Ino), nil
}

// listDir calls fn with the name and inode number of each entry of dir
// that is not a directory, reading them with getdents(2) into buf (grown
// if nil), which it returns for the next call. Unlike os.ReadDir it needs
// no lstat to tell a replaced file by its inode number.
func listDir(dir string, buf []byte, fn func(name []byte, id fileID)) ([]byte, error) {
	if buf == nil {
		buf = make([]byte, 64<<10)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return buf, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return buf, &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n <= 0 {
			return buf, nil
		}
		for recs := buf[:n]; len(recs) > 0; {
			ino, name, dtype, rest, ok := fdio.Dirent(recs)
			if !ok {
				return buf, &os.PathError{Op: "getdents", Path: dir, Err: unix.EIO} // the kernel never does this
			}
			recs = rest
			isDot := string(name) == "." || string(name) == ".."
			if dtype != unix.DT_DIR && !isDot {
				fn(name, fileID(ino))
			}
		}
	}
}

// openDir opens dir to look at it with fstatDir: O_PATH, which needs no
// permission to read the directory.
func openDir(dir string) (int, error) {
	return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// fstatDir is statDir through a descriptor of openDir: no path to walk.
func fstatDir(fd int) (dirStamp, error) {
	var st unix.Stat_t
	if err := fstatNow(fd, &st); err != nil {
		return dirStamp{}, err
	}
	return dirStamp{dev: uint64(st.Dev), ino: uint64(st.Ino), mtime: st.Mtim, ctime: st.Ctim}, nil
}

// closeDir closes a descriptor of openDir.
func closeDir(fd int) { unix.Close(fd) }

// sameDir reports whether two stamps are of the same directory.
func (s dirStamp) sameDir(o dirStamp) bool { return s.dev == o.dev && s.ino == o.ino }
