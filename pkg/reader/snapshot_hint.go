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
	m  *mergedChecks // sh's checks, merged
}

// mergedChecks is shape.matches with fewer, longer comparisons: the
// checks of a shape whose bytes must equal the shape's (its exact
// checks, and the write_buffer bytes 0xff of its unbuffered fields),
// joined where they touch, so that a field's label, type and
// write_buffer byte are one comparison rather than two; the other
// checks (a sequence word's whitespace, a buffered field's
// write_buffer byte) as they are.
type mergedChecks struct {
	exact []exactRun
	other []check
}

// exactRun is bytes a file must hold at off.
type exactRun struct {
	off  int
	want string
}

func newMergedChecks(sh *shape) *mergedChecks {
	m := &mergedChecks{}
	want := sh.want
	var run []byte
	off := -1
	flush := func() {
		if off >= 0 {
			m.exact = append(m.exact, exactRun{off, string(run)})
		}
		run, off = run[:0], -1
	}
	for _, c := range sh.checks {
		var b []byte
		switch c.kind {
		case checkExact:
			b, want = want[:c.n], want[c.n:]
		case checkUnbuffered:
			b = []byte{0xff}
		default:
			m.other = append(m.other, c)
			continue
		}
		if off < 0 || off+len(run) != c.off {
			flush()
			off = c.off
		}
		run = append(run, b...)
	}
	flush()
	return m
}

// matches is sh.matches(data, len(data)) for m of sh, data of sh's size.
func (m *mergedChecks) matches(data []byte) bool {
	for _, r := range m.exact {
		if string(data[r.off:r.off+len(r.want)]) != r.want {
			return false
		}
	}
	for _, c := range m.other {
		b := data[c.off : c.off+c.n]
		switch c.kind {
		case checkSpaces:
			for _, x := range b {
				if !isStructSpace(x) {
					return false
				}
			}
		case checkBuffered:
			if b[0] > 1 {
				return false
			}
		}
	}
	return true
}

// set makes h hold sh (nil: nothing).
func (h *ShapeHint) set(sh *shape) {
	if sh != h.sh {
		h.sh, h.m = sh, nil
		if sh != nil {
			h.m = newMergedChecks(sh)
		}
	}
}

// ReadFDHint is ReadFDInto trying h's layout first: a file of that
// layout (its size, and the bytes parsing depends on: the checks of
// shape.matches, merged) costs the reads of its layout and values and
// that check alone. Any
// other file is read as ReadFDInto reads it. Afterwards h holds the
// layout f shares with other files, if any.
func (s *Snapshot) ReadFDHint(f *File, fd int, name string, size int64, h *ShapeHint) error {
	sh := h.sh
	if sh == nil || int64(sh.size) != size || size > MaxSnapshot {
		err := s.ReadFDInto(f, fd, name, size)
		if err == nil {
			h.set(f.shape)
		}
		return err
	}
	s.Close() // before f is reset: f may be the File read last
	*f = File{path: name, snap: f.snap}
	data := s.buffer(int(size))
	if err := preadRanges(fd, data, sh.ranges); err != nil {
		return &PathError{Path: name, Err: err}
	}
	if !h.m.matches(data) {
		// Another layout: read as any file is (the ranges again, or
		// the whole file), and remember what it has.
		err := s.ReadFDInto(f, fd, name, size)
		if err != nil {
			h.set(nil)
		} else {
			h.set(f.shape)
		}
		return err
	}
	// As Snapshot.read keeps a file of a cached shape.
	f.data, f.idx, f.shape, f.layout = data, &sh.idx, sh, &sh.layout
	if f.snap == nil {
		f.snap = new(snapState)
	}
	*f.snap = snapState{fd: fd, on: true, unsettled: len(sh.regions) > 0, noBuckets: true}
	s.last = f
	return nil
}
