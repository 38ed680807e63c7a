//go:build linux && !(amd64 || arm64)

package fdio

import "golang.org/x/sys/unix"

// Rename2At is renameat2(2) of from to to, both in directory dir.
func Rename2At(dir int, from, to string, flags uint) error {
	return unix.Renameat2(dir, from, dir, to, flags)
}
