//go:build unix && !(linux && (amd64 || arm64))

package clean

import "golang.org/x/sys/unix"

// The *at system calls that name a file in a directory, as the unix
// package makes them (atcalls_linux.go makes them without allocating).

func atOpen(dir int, name string, flags int) (int, error) { return unix.Openat(dir, name, flags, 0) }

func atStat(dir int, name string, st *unix.Stat_t, flags int) error {
	return unix.Fstatat(dir, name, st, flags)
}

func atUnlink(dir int, name string, flags int) error { return unix.Unlinkat(dir, name, flags) }
