//go:build !linux

package reader

// maxMapCount returns how many mappings a process may have. Only Linux
// says (vm.max_map_count); elsewhere the budget is fixed, computed as if
// the limit were Linux's default. macOS and FreeBSD have no such low
// limit, so this only makes a process with tens of thousands of open
// files read some of them from copies.
func maxMapCount() int64 { return 65530 }
