//go:build !linux

package pollstats

import (
	"errors"
	"os"
	"time"
)

// dirStamp is what changes when entries are added to, removed from or
// renamed in a directory, or the directory is replaced.
type dirStamp struct {
	ino   uint64
	mtime time.Time
}

// recent reports whether the directory changed less than window before now.
func (s dirStamp) recent(now time.Time, window time.Duration) bool {
	return s.mtime.After(now.Add(-window))
}

func statDir(dir string) (dirStamp, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return dirStamp{}, err
	}
	return dirStamp{ino: inode(st), mtime: st.ModTime()}, nil
}

// lstatID returns the ID of the directory entry at path.
func lstatID(path string) (fileID, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return 0, err
	}
	return fileID(inode(st)), nil
}

// listDir calls fn with the name and inode number of each entry of dir
// that is not a directory. buf is unused on this system.
func listDir(dir string, buf []byte, fn func(name []byte, id fileID)) ([]byte, error) {
	entries, err := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if st, err := e.Info(); err == nil {
			fn([]byte(e.Name()), fileID(inode(st)))
		}
	}
	return buf, err
}

// Elsewhere a directory is looked at by its path each time.

func openDir(string) (int, error)          { return -1, errors.ErrUnsupported }
func fstatDir(int) (dirStamp, error)       { return dirStamp{}, errors.ErrUnsupported }
func closeDir(int)                         {}
func (s dirStamp) sameDir(o dirStamp) bool { return s.ino == o.ino }
