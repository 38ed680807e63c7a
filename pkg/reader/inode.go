package reader

// Inode returns the inode number of the file that f reads, as fstat gave
// it when f was opened (0 where the system has none): a tool that tracks
// files by the inode numbers of a directory listing checks with it that a
// File read again by path is still the file it listed.
func (f *File) Inode() uint64 { return uint64(f.id.Ino) }
