//go:build unix

package fileid

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// FromStat returns the ID of the file that st describes.
func FromStat(st *unix.Stat_t) ID { return ID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)} }

// Of returns the ID of the file that fi describes (from os.Stat,
// os.Lstat or File.Stat); ok is false for a FileInfo that the os package
// did not make.
func Of(fi os.FileInfo) (id ID, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ID{}, false
	}
	return ID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, true
}
