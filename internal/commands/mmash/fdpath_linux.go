package mmash

import (
	"os"
	"strconv"
)

// fdPath returns a path that opens the file f refers to again: the
// process's descriptor link in /proc, which does not resolve a path.
func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }
