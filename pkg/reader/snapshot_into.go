package reader

// ReadFDInto is ReadFD reading into f rather than a new File: f is a
// File that ReadFDInto filled before, or a zero File, and is valid until
// the next Open, ReadFD or ReadFDInto of s. A caller that reads thousands
// of files every interval through one Snapshot (pollstats' files past
// the mapping budget) then leaves no File behind each time for the
// collector: with files of a shared layout, nothing at all.
func (s *Snapshot) ReadFDInto(f *File, fd int, name string, size int64) error {
	// Close before f is reset: f may be the File read last. Its
	// snapState, emptied then, is used again.
	s.Close()
	*f = File{path: name, snap: f.snap}
	if err := s.read(f, fd, int(size), false); err != nil {
		return &PathError{Path: name, Err: err}
	}
	return nil
}
