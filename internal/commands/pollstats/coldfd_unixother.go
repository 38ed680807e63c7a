//go:build unix && !linux

package pollstats

import "golang.org/x/sys/unix"

// openAt opens name in the directory dirfd read-only without blocking,
// as openWords opens a path.
func openAt(dirfd int, name string, _ *[]byte) (int, error) {
	return unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
}
