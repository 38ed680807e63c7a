package mmstats

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// pidNamespace returns the inode number of this process's PID namespace,
// from /proc/self/ns/pid ("pid:[4026531836]"); false without /proc.
var pidNamespace = sync.OnceValues(func() (uint64, bool) {
	link, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return 0, false
	}
	s, prefixed := strings.CutPrefix(link, "pid:[")
	s, suffixed := strings.CutSuffix(s, "]")
	if !prefixed || !suffixed {
		return 0, false
	}
	ino, err := strconv.ParseUint(s, 10, 64)
	return ino, err == nil
})
