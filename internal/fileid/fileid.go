// Package fileid identifies a file by its device and inode number: what
// tells the file a path names now from the one it named before (a file
// replaced at its name, grown by its writer into a new copy, moved
// aside). The writer, the reader and cleanstats compare files this way.
package fileid

// ID is a file's identity: the device that holds it and its inode
// number. Two descriptors or paths with the same ID refer to one file,
// as os.SameFile says; the zero ID is no file.
type ID struct{ Dev, Ino uint64 }
