//go:build unix && !linux

package pollstats

import "golang.org/x/sys/unix"

// noAtime is 0: O_NOATIME is Linux's.
const noAtime = 0

// openAt opens name in the directory dirfd read-only without blocking,
// with flags added, as openWords opens a path.
func openAt(dirfd int, name string, _ *[]byte, flags int) (int, error) {
	return unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|flags, 0)
}
