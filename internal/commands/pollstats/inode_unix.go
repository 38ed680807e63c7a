//go:build unix && !linux

package pollstats

import (
	"os"
	"syscall"
)

// inode returns the inode number of the file st describes.
func inode(st os.FileInfo) uint64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino)
	}
	return 0
}
