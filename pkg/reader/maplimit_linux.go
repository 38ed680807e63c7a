package reader

import (
	"os"
	"strconv"
	"strings"
)

// maxMapCount returns how many mappings a process may have:
// vm.max_map_count, or the kernel's default if it cannot be read.
func maxMapCount() int64 {
	if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 65530
}
