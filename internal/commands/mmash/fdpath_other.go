//go:build !linux

package mmash

import (
	"os"
	"strconv"
)

// fdPath returns a path that opens the file f refers to again: /dev/fd/N,
// which on the BSDs and macOS duplicates descriptor N.
func fdPath(f *os.File) string { return "/dev/fd/" + strconv.Itoa(int(f.Fd())) }
