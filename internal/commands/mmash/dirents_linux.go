//go:build linux

package mmash

import (
	"encoding/binary"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// dirLister lists the stats directory with getdents(2) into a buffer it
// keeps, so that listing a directory of names it saw before allocates
// nothing: os.ReadDir makes a string and an entry of every name, at
// every request. It gives each name's inode and type with it, which
// tell a file replaced under its name without a stat of its own.
type dirLister struct {
	dir     *os.File
	buf     []byte
	nomatch map[string]struct{} // names seen that the glob does not match
}

// openLister opens the directory of ref for listing; nil if it cannot.
func openLister(ref *rootRef) *dirLister {
	f, err := ref.root.Open(".")
	if err != nil {
		return nil
	}
	return &dirLister{dir: f, buf: make([]byte, 64<<10), nomatch: map[string]struct{}{}}
}

func (l *dirLister) close() { l.dir.Close() }

// list passes each regular file that glob matches to c.saw. It returns
// false, having passed nothing, when expand must list instead: a name
// that glob matches is not a regular file (a symlink, to resolve and
// confine; a FIFO, to refuse; a file system that does not say), or the
// directory is larger than a glob may look at. glob is a checked glob
// of one path element.
func (l *dirLister) list(glob string, c *fileCache) (bool, error) {
	if _, err := unix.Seek(int(l.dir.Fd()), 0, 0); err != nil {
		return false, nil
	}
	work, start := 0, len(c.list)
	for {
		n, err := unix.Getdents(int(l.dir.Fd()), l.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// A listing cut short would drop the files after: expand
			// lists it, and says what it can.
			c.list = c.list[:start]
			return false, nil
		}
		if n <= 0 {
			break
		}
		for b := l.buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return false, nil
			}
			ino, typ, name := binary.NativeEndian.Uint64(b[0:8]), b[18], b[19:reclen]
			for k, c := range name {
				if c == 0 {
					name = name[:k]
					break
				}
			}
			b = b[reclen:]
			if work++; work > maxGlobWork {
				c.list = c.list[:start]
				return false, nil
			}
			if string(name) == "." || string(name) == ".." || !l.matches(glob, name, c) {
				continue
			}
			if typ != unix.DT_REG || len(c.list)-start == maxGlobMatches {
				c.list = c.list[:start]
				return false, nil
			}
			c.saw(name, ino)
		}
	}
	return true, nil
}

// matches reports whether glob matches name: a name the cache has is
// one that matched, and a name that did not is remembered too (up to
// maxNameCache of them), so that only new names cost a string.
func (l *dirLister) matches(glob string, name []byte, c *fileCache) bool {
	if _, ok := c.entries[string(name)]; ok {
		return true
	}
	if _, ok := l.nomatch[string(name)]; ok {
		return false
	}
	s := string(name)
	if ok, _ := path.Match(glob, s); ok {
		return true
	}
	if len(l.nomatch) >= maxNameCache {
		clear(l.nomatch)
	}
	l.nomatch[s] = struct{}{}
	return false
}
