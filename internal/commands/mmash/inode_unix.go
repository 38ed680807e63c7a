//go:build unix

package mmash

import (
	"os"
	"syscall"
)

// inodeOf returns the inode number of a file that fstat or lstat
// described.
func inodeOf(fi os.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Ino), true
}
