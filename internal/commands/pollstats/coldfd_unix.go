//go:build unix

package pollstats

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
)

// dirFDs are descriptors of the directories of the cold files, opened
// once an interval: a file past the descriptor budget is opened relative
// to its directory's (openat), which walks one name, not the path. They
// are closed after each interval (reset), so that a directory replaced
// at its path is the new one at the next interval, as its path would be.
type dirFDs struct {
	fds map[string]int // by the directory's path, as in the files' paths
	// atime says that a file was refused O_NOATIME (not its owner's):
	// the files are opened without it from then on.
	atime bool
}

// openFile is openAt, but in tests.
var openFile = openAt

// openWords opens the regular file at path for its words, and returns
// its inode number (the caller checks that it is still the file it read)
// and its size.
func (d *dirFDs) openWords(path string) (fd int, ino uint64, size int64, err error) {
	dir, name := ".", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, name = path[:i+1], path[i+1:] // "/" stays "/"
	}
	dfd, ok := d.fds[dir]
	if !ok {
		if dfd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			dfd = -1 // an error each time, as opening the path would give
		}
		if d.fds == nil {
			d.fds = map[string]int{}
		}
		d.fds[dir] = dfd
	}
	if dfd < 0 {
		return -1, 0, 0, unix.ENOENT
	}
	if !d.atime {
		fd, err = openFile(dfd, name, noAtime)
		if err == unix.EPERM {
			d.atime = true
		}
	}
	if d.atime {
		fd, err = openFile(dfd, name, 0)
	}
	if err != nil {
		return -1, 0, 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, 0, 0, unix.EINVAL
	}
	return fd, uint64(st.Ino), st.Size, nil
}

// openAt opens name in the directory dirfd read-only without blocking,
// with flags (0 or noAtime) added, as openWords opens a path, without
// allocating a copy of the name for each of the thousands of files
// opened every interval past the descriptor budget (fdio.OpenAt).
func openAt(dirfd int, name string, flags int) (int, error) {
	return fdio.OpenAt(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|flags)
}

// preadWords reads len(b) bytes of fd at off, and reports whether it
// read them all.
func preadWords(fd int, b []byte, off int) bool {
	n, err := fdio.ReadAt(fd, b, int64(off))
	return err == nil && n == len(b)
}

// reset closes the directories' descriptors.
func (d *dirFDs) reset() {
	for dir, fd := range d.fds {
		if fd >= 0 {
			unix.Close(fd)
		}
		delete(d.fds, dir)
	}
}

// closeWords closes a descriptor of openWords.
func closeWords(fd int) { unix.Close(fd) }

// fdBudget is how many descriptors pollstats keeps open on cold files:
// the limit (which the Go runtime raises to the hard limit) less 512 for
// everything else.
func fdBudget() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return max(int(min(rl.Cur, 1<<20))-512, 0)
}
