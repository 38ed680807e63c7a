package clean

import (
	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
)

// renameNoReplace renames from to to in dir, failing with EEXIST if to
// exists: it never replaces anything (renameat2 with RENAME_NOREPLACE).
// Where the file system cannot (EINVAL), linkNoReplace does it.
func renameNoReplace(dir int, from, to string) error {
	_, err := retry(func() (int, error) {
		return 0, fdio.Rename2At(dir, from, to, unix.RENAME_NOREPLACE)
	})
	if err != unix.EINVAL && err != unix.ENOSYS {
		return err
	}
	return linkNoReplace(dir, from, to)
}
