//go:build !unix

package fileid

import "os"

// Of returns the ID of the file that fi describes; ok is false on systems
// whose FileInfo has no device and inode number (os.SameFile still
// compares files there).
func Of(fi os.FileInfo) (id ID, ok bool) { return ID{}, false }
