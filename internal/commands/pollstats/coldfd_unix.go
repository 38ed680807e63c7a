//go:build unix

package pollstats

import (
	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
)

// openWords opens the regular file at path for its words, and returns
// its inode number: the caller checks that it is still the file it read.
func openWords(path string) (fd int, ino uint64, err error) {
	fd, err = unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, 0, unix.EINVAL
	}
	return fd, uint64(st.Ino), nil
}

// preadWords reads len(b) bytes of fd at off, and reports whether it
// read them all.
func preadWords(fd int, b []byte, off int) bool {
	n, err := fdio.ReadAt(fd, b, int64(off))
	return err == nil && n == len(b)
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
