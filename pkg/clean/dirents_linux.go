//go:build linux

package clean

import (
	"bytes"
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
)

// listMatching returns the entries of directory dir that l includes,
// unsorted (MatchEntries). It reads the directory's records with
// getdents(2) and makes a string only of the path of each file it
// includes: os.File.ReadDir makes a name, an entry and its record for
// every file of the directory, included or not (three allocations a
// file of a directory of thousands). A file whose type the file system
// does not list (DT_UNKNOWN) is lstat'ed, as ReadDir does; one that is
// gone by then is left out, as ReadDir leaves it.
func listMatching(dir string, l listing) ([]Entry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var out []Entry
	var lerr error
	buf := make([]byte, 32<<10)
	suffix := []byte(l.suffix)
	fast := l.suffix != "" && l.prefix != ""
	cerr := rc.Read(func(fd uintptr) bool {
		for {
			n, err := unix.Getdents(int(fd), buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				lerr = &os.PathError{Op: "readdirent", Path: dir, Err: err}
				return true
			}
			if n <= 0 {
				return true
			}
			for recs := buf[:n]; len(recs) > 0; {
				_, name, dtype, rest, ok := fdio.Dirent(recs)
				if !ok {
					break
				}
				recs = rest
				var path string
				switch {
				case len(name) == 0 || string(name) == "." || string(name) == "..":
					continue
				case fast && name[0] != '.':
					// Not hidden: included when the pattern matches.
					if !bytes.HasSuffix(name, suffix) {
						continue
					}
					path = l.prefix + string(name)
				default:
					s := string(name)
					if !l.include(s) {
						continue
					}
					path = l.join(s)
				}
				typ, known := direntType(dtype)
				if !known {
					var st fileStat
					if err := lstatAt(int(fd), string(name), &st); errors.Is(err, unix.ENOENT) {
						continue // gone since the listing
					} else if err != nil {
						lerr = &os.PathError{Op: "lstat", Path: path, Err: err}
						return true
					}
					typ = modeType(st.Mode)
				}
				out = append(out, Entry{Path: path, Type: typ, Listed: true})
			}
		}
	})
	if lerr != nil {
		return nil, lerr
	}
	if cerr != nil {
		return nil, cerr
	}
	return out, nil
}

// direntType returns the file type of a d_type as an fs.FileMode's
// type bits, or false for DT_UNKNOWN (and anything else).
func direntType(dtype uint8) (fs.FileMode, bool) {
	switch dtype {
	case unix.DT_REG:
		return 0, true
	case unix.DT_DIR:
		return fs.ModeDir, true
	case unix.DT_LNK:
		return fs.ModeSymlink, true
	case unix.DT_FIFO:
		return fs.ModeNamedPipe, true
	case unix.DT_SOCK:
		return fs.ModeSocket, true
	case unix.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice, true
	case unix.DT_BLK:
		return fs.ModeDevice, true
	}
	return 0, false
}

// modeType returns the file type of a stat's st_mode as fs.FileMode's
// type bits, as os.Lstat's Mode().Type() gives it.
func modeType(mode uint32) fs.FileMode {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return 0
}
