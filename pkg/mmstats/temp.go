package mmstats

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"github.com/mmstats/mmstats/internal/convention"
)

// tempFile is a file being built before it gets its final name: locked
// (LOCK_SH, taken before anything else), with its blocks reserved.
//
// Where the system can, it has no name at all (O_TMPFILE): a process
// killed while building leaves nothing. Elsewhere it is named
// ".mmstats.<16 hex digits>.tmp" in the target directory, a name of fixed
// length whatever the final name (a final name of 255 bytes works), that
// cleanstats removes once its lock is free and it is old enough: its
// creator is then provably gone.
type tempFile struct {
	fd   int
	dir  string
	name string // "" while the file has no name
}

// newTempName returns a fresh temporary name in dir (see
// convention.TempPrefix).
func newTempName(dir string) string {
	var b [convention.TempHex / 2]byte
	rand.Read(b[:])
	return filepath.Join(dir, convention.TempPrefix+hex.EncodeToString(b[:])+convention.TempSuffix)
}

// openTemp creates a temporary file of size bytes in dir, locked, with
// its blocks reserved.
func openTemp(dir string, size int) (_ *tempFile, err error) {
	t := &tempFile{fd: -1, dir: dir}
	fd, unnamed, err := openUnnamed(dir)
	if err != nil {
		return nil, err
	}
	if unnamed {
		t.fd = fd
	} else {
		for tries := 0; ; tries++ {
			name := newTempName(dir)
			fd, err := createExclusive(name)
			if errors.Is(err, os.ErrExist) && tries < 8 {
				continue
			}
			if err != nil {
				return nil, err
			}
			t.fd, t.name = fd, name
			break
		}
	}
	defer func() {
		if err != nil {
			t.discard()
		}
	}()
	if err := lockShared(t.fd); err != nil {
		return nil, err
	}
	if err := reserveBlocks(t.fd, size); err != nil {
		return nil, err
	}
	return t, nil
}

// linkAs gives the file the name path, never replacing anything there
// (an error wrapping os.ErrExist).
func (t *tempFile) linkAs(path string) error {
	if t.name == "" {
		return linkUnnamed(t.fd, path)
	}
	if err := renameNoReplace(t.name, path); err != nil {
		return err
	}
	t.name = ""
	return nil
}

// ensureName gives an unnamed file a temporary name (to rename it later).
func (t *tempFile) ensureName() error {
	if t.name != "" {
		return nil
	}
	for tries := 0; ; tries++ {
		name := newTempName(t.dir)
		err := linkUnnamed(t.fd, name)
		if errors.Is(err, os.ErrExist) && tries < 8 {
			continue
		}
		if err == nil {
			t.name = name
		}
		return err
	}
}

// discard removes the temporary name, if any, and closes the file.
func (t *tempFile) discard() {
	if t.name != "" {
		unlink(t.name)
		t.name = ""
	}
	if t.fd >= 0 {
		closeFD(t.fd)
		t.fd = -1
	}
}
