//go:build linux

package mmash

import (
	"os"
	"path"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
)

// dirLister lists the stats directory with getdents(2) into a buffer it
// keeps, so that listing a directory of names it saw before allocates
// nothing: os.ReadDir makes a string and an entry of every name, at
// every request. It gives each name's inode and type with it, which
// tell a file replaced under its name without a stat of its own.
//
// A directory on a local file system whose modification and change
// times are those of the last listing, and were already a while old
// then, has the same names as then: creating, removing or renaming a
// name sets them to the time of the change, which is later, so the
// last listing's names and inodes are given again without getdents (a
// thousand names cost it about 0.7 ms). A file changed in place changes
// neither, and is the cache's to see (File.Update), as when listed.
type dirLister struct {
	dir     *os.File
	buf     []byte
	nomatch map[string]struct{} // names seen that the glob does not match

	local bool     // the file system sets a directory's times as it changes
	names []byte   // the last listing's names that the glob matched
	ends  []int    // where each of names ends
	inos  []uint64 // and its inode
	times [2]unix.Timespec
	kept  bool // the directory's times were times[0:2], dirTrustAge before that listing
	reads int  // the listings made with getdents, for tests
}

// dirTrustAge is how much older than a listing the directory's times
// must be for it to be kept: more than the coarse clock of the file
// system's timestamps, so that a change in the same tick as the last
// one (the same times) came before the listing.
var dirTrustAge = time.Second

// localFS are the file systems (statfs f_type) whose directories' times
// are set, by this kernel's clock, at every change of their names: not
// a network file system, whose attributes a client may cache.
var localFS = map[int64]bool{unix.TMPFS_MAGIC: true, unix.EXT4_SUPER_MAGIC: true, unix.XFS_SUPER_MAGIC: true, unix.BTRFS_SUPER_MAGIC: true}

// openLister opens the directory of ref for listing; nil if it cannot.
func openLister(ref *rootRef) *dirLister {
	f, err := ref.root.Open(".")
	if err != nil {
		return nil
	}
	l := &dirLister{dir: f, buf: make([]byte, 64<<10), nomatch: map[string]struct{}{}}
	var fs unix.Statfs_t
	if unix.Fstatfs(int(f.Fd()), &fs) == nil {
		l.local = localFS[int64(fs.Type)]
	}
	return l
}

func (l *dirLister) close() { l.dir.Close() }

// list passes each regular file that glob matches to c.saw. It returns
// false, having passed nothing, when expand must list instead: a name
// that glob matches is not a regular file (a symlink, to resolve and
// confine; a FIFO, to refuse; a file system that does not say), or the
// directory is larger than a glob may look at. glob is a checked glob
// of one path element.
func (l *dirLister) list(glob string, c *fileCache) (bool, error) {
	var st unix.Stat_t
	statted := l.local && unix.Fstat(int(l.dir.Fd()), &st) == nil
	if statted && l.kept && st.Mtim == l.times[0] && st.Ctim == l.times[1] {
		from := 0
		for k, end := range l.ends {
			c.saw(l.names[from:end], l.inos[k])
			from = end
		}
		return true, nil
	}
	l.kept = false
	l.names, l.ends, l.inos = l.names[:0], l.ends[:0], l.inos[:0]
	if _, err := unix.Seek(int(l.dir.Fd()), 0, 0); err != nil {
		return false, nil
	}
	l.reads++
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
		for b := l.buf[:n]; len(b) > 0; {
			ino, name, typ, rest, ok := fdio.Dirent(b)
			if !ok {
				return false, nil
			}
			b = rest
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
			l.names = append(l.names, name...)
			l.ends, l.inos = append(l.ends, len(l.names)), append(l.inos, ino)
		}
	}
	if statted {
		old := time.Now().Add(-dirTrustAge)
		l.times = [2]unix.Timespec{st.Mtim, st.Ctim}
		l.kept = time.Unix(st.Mtim.Unix()).Before(old) && time.Unix(st.Ctim.Unix()).Before(old)
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
