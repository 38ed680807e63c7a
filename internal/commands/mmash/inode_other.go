//go:build !unix

package mmash

import "os"

// inodeOf returns nothing where files have no inode: the cache opens
// every file again at every request.
func inodeOf(os.FileInfo) (uint64, bool) { return 0, false }
