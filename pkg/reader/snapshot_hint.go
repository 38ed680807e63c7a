package reader

// ShapeHint is the layout that a Snapshot's reader found in the file
// it read last through ReadFDHint: the next file is tried against it
// first, without the lock of the process's cache of layouts, which two
// goroutines reading files of one program would otherwise take and
// contend for at every file. A hint holds only a shape, which is never
// modified once made: a stale hint costs a file the check that fails,
// never a file read through a layout it does not have. The zero value
// is an empty hint. One hint serves one goroutine.
type ShapeHint struct {
	sh *shape
}

// ReadFDHint is ReadFDInto trying h's layout first: a file of that
// layout (its size, and the bytes parsing depends on: shape.matches)
// costs the reads of its layout and values and that check alone. Any
// other file is read as ReadFDInto reads it. Afterwards h holds the
// layout f shares with other files, if any.
func (s *Snapshot) ReadFDHint(f *File, fd int, name string, size int64, h *ShapeHint) error {
	sh := h.sh
	if sh == nil || int64(sh.size) != size || size > MaxSnapshot {
		err := s.ReadFDInto(f, fd, name, size)
		if err == nil {
			h.sh = f.shape
		}
		return err
	}
	s.Close() // before f is reset: f may be the File read last
	*f = File{path: name, snap: f.snap}
	data := s.buffer(int(size))
	if err := preadRanges(fd, data, sh.ranges); err != nil {
		return &PathError{Path: name, Err: err}
	}
	if !sh.matches(data, int(size)) {
		// Another layout: read as any file is (the ranges again, or
		// the whole file), and remember what it has.
		err := s.ReadFDInto(f, fd, name, size)
		h.sh = nil
		if err == nil {
			h.sh = f.shape
		}
		return err
	}
	// As Snapshot.read keeps a file of a cached shape.
	f.data, f.idx, f.shape, f.layout = data, sh.idx, sh, &sh.layout
	if f.snap == nil {
		f.snap = new(snapState)
	}
	*f.snap = snapState{fd: fd, on: true, unsettled: len(sh.regions) > 0, noBuckets: true}
	s.last = f
	return nil
}
