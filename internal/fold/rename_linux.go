package fold

import (
	"errors"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames from to to in dir, failing with EEXIST if to
// exists: renameat2, or on file systems without it, link then unlink.
func renameNoReplace(dir int, from, to string) error {
	err := unix.Renameat2(dir, from, dir, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return linkNoReplace(dir, from, to)
	}
	return err
}
