package fdio

import (
	"bytes"
	"encoding/binary"
)

// The layout of struct linux_dirent64, the records getdents(2) fills.
const (
	direntIno    = 0
	direntReclen = 16
	direntType   = 18
	direntName   = 19
)

// Dirent parses the first record of a list that getdents(2) filled: its
// inode number, its name (up to its NUL), its d_type, and the records
// after it. ok is false for a record cut short or whose length is not
// one (the kernel never writes such a record). The one parser of
// pollstats', mmash's and cleanstats' listings.
func Dirent(recs []byte) (ino uint64, name []byte, dtype uint8, rest []byte, ok bool) {
	if len(recs) < direntName {
		return 0, nil, 0, nil, false
	}
	reclen := int(binary.NativeEndian.Uint16(recs[direntReclen:]))
	if reclen < direntName || reclen > len(recs) {
		return 0, nil, 0, nil, false
	}
	name = recs[direntName:reclen]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return binary.NativeEndian.Uint64(recs[direntIno:]), name, recs[direntType], recs[reclen:], true
}
