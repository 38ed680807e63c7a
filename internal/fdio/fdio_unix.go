//go:build unix

// Package fdio reads files through their descriptors with pread(2), and
// parses the records getdents(2) lists a directory with (Linux, Dirent):
// the one pread loop that the writer's, the folder's, cleanstats' and
// pollstats' system-call files share, and the one parser of the
// listings of pollstats, mmash and cleanstats.
package fdio

import "golang.org/x/sys/unix"

// ReadAt reads into b from offset off of fd until b is full or the file
// ends, and returns how many bytes it read. A call interrupted by a
// signal is made again; any other error ends the read.
func ReadAt(fd int, b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Pread(fd, b[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}
