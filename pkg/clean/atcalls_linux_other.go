//go:build linux && !(amd64 || arm64)

package clean

import "golang.org/x/sys/unix"

func atRename2(dir int, from, to string, flags uint) error {
	return unix.Renameat2(dir, from, dir, to, flags)
}
