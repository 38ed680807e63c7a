package clean

import "golang.org/x/sys/unix"

// renameNoReplace renames from to to in dir, failing with EEXIST if to
// exists: it never replaces anything (renameatx_np with RENAME_EXCL).
// Where the file system cannot (ENOTSUP, EINVAL), linkNoReplace does it.
func renameNoReplace(dir int, from, to string) error {
	_, err := retry(func() (int, error) {
		return 0, unix.RenameatxNp(dir, from, dir, to, unix.RENAME_EXCL)
	})
	if err != unix.ENOTSUP && err != unix.EINVAL {
		return err
	}
	return linkNoReplace(dir, from, to)
}
