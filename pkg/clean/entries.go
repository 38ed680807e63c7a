package clean

import (
	"fmt"
	"io/fs"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Entry is a path for a Cleaner, with the file type that the listing of
// its directory gave, when it is known (MatchEntries).
type Entry struct {
	Path string
	// Type is the file's type as listed (fs.FileMode's type bits: 0
	// for a regular file); meaningful when Listed.
	Type fs.FileMode
	// Listed says that Type comes from the directory's listing
	// (getdents' d_type, or an lstat where the file system does not
	// list types). A listed file that is not regular is never opened;
	// one that is not listed is checked with lstat first. Either way,
	// a file is opened with O_NOFOLLOW|O_NONBLOCK and checked to be a
	// regular file before it is read, as the listing may be out of date.
	Listed bool
}

// entriesOf returns the paths as Entries whose types are not known.
func entriesOf(paths []string) []Entry {
	out := make([]Entry, len(paths))
	for i, p := range paths {
		out[i] = Entry{Path: p}
	}
	return out
}

// listedSkip returns, for a file listed with type typ, the result of a
// file that is not opened: a symlink or anything but a regular file.
// It returns false for a regular file.
func listedSkip(typ fs.FileMode, res *Result) bool {
	switch {
	case typ&fs.ModeSymlink != 0:
		*res = res.skip(Symlink, reader.ErrSymlink)
	case typ&fs.ModeType != 0:
		*res = res.skip(NotRegular, fmt.Errorf("%w (%s)", reader.ErrNotRegular, modeTypeName(typ)))
	default:
		return false
	}
	return true
}

// modeTypeName names the file type in typ for messages, as typeName
// does for a stat.
func modeTypeName(typ fs.FileMode) string {
	switch {
	case typ&fs.ModeDir != 0:
		return "directory"
	case typ&fs.ModeNamedPipe != 0:
		return "FIFO"
	case typ&fs.ModeCharDevice != 0:
		return "character device"
	case typ&fs.ModeDevice != 0:
		return "block device"
	case typ&fs.ModeSocket != 0:
		return "socket"
	case typ&fs.ModeSymlink != 0:
		return "symlink"
	case typ&fs.ModeType == 0:
		return "regular file"
	}
	return "unknown file type"
}
