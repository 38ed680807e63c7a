//go:build linux && !(amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x)

package pollstats

import "golang.org/x/sys/unix"

// fstatNow is unix.Fstat where its struct is not newfstatat's.
func fstatNow(fd int, st *unix.Stat_t) error { return unix.Fstat(fd, st) }
