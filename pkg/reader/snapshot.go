package reader

// Reading a file once: a private copy read with pread into a buffer that
// is used again for the next file, rather than a mapping. A tool that
// reads each file once (slurpstats, cleanstats) pays for a mapping more
// than it gets: the mmap, the page faults, and the munmap, which on a
// process with threads on several CPUs interrupts the others to flush
// their TLBs.

import (
	"errors"
	"sort"
	"syscall"
	"time"
	"unsafe"

	"github.com/mmstats/mmstats/internal/v1"
)

// Snapshot reads files once each, into a buffer it reuses: for tools
// that read a file and are done with it, such as slurpstats and
// cleanstats. It is not safe for concurrent use; use one per goroutine.
//
// A file whose layout another file read before had (the workers of one
// program) is read in a few hundred bytes: the bytes of its layout and
// values, without the histograms' bucket counts, which ReadHistogram
// reads when asked. Its layout is checked, not parsed: see shape.go.
// Strings and groups under a sequence word are read again, under the
// same protocol as a mapped read, when a value is first read, so that a
// copy is never torn; a caller that reads only other fields (cleanstats
// reads sys.pid and its like) never pays for it.
//
// A file larger than MaxSnapshot is mapped, as Open does.
type Snapshot struct {
	buf  []byte // aligned to 64 bytes, as the mapping of a page is
	last *File  // the File that buf holds
}

// MaxSnapshot is the size above which a Snapshot maps a file rather
// than copying it: the Go writer's files are a few pages, and a copy of
// a large crafted one would cost its size in memory.
const MaxSnapshot = 1 << 20

// snapState is what a File read by a Snapshot keeps: the descriptor to
// read its strings and groups again, and what was read.
type snapState struct {
	fd        int
	on        bool  // fd is valid
	ownFD     bool  // Close closes fd (Snapshot.Open)
	unsettled bool  // the regions under a sequence word are not read again yet
	noBuckets bool  // the bucket counts were not read
	err       error // why settling failed: every later read gives it
}

// snapOn reports whether f is a Snapshot's copy, read through its
// descriptor.
func (f *File) snapOn() bool { return f.snap != nil && f.snap.on }

// release closes the descriptor if it is the File's, and forgets it. s
// may be nil (a File that is not a Snapshot's).
func (s *snapState) release() {
	if s == nil {
		return
	}
	if s.on && s.ownFD {
		closeFD(s.fd)
	}
	*s = snapState{}
}

// Open reads the file at path, as reader.Open opens it (a regular file,
// symlinks followed). The File it returns reads the copy: its values are
// those of the moment it was read (Update reads the file again). It is
// valid until the next Open or ReadFD of s, which closes it: Close it
// when done, or let the next call do it.
func (s *Snapshot) Open(path string) (*File, error) { return s.open(path, false) }

// OpenNoFollow is Open, refusing a symlink (ErrSymlink).
func (s *Snapshot) OpenNoFollow(path string) (*File, error) { return s.open(path, true) }

func (s *Snapshot) open(path string, noFollow bool) (*File, error) {
	s.Close()
	fd, st, err := openRegular(path, noFollow)
	if err != nil {
		return nil, &PathError{Path: path, Err: err}
	}
	f := &File{path: path, noFollow: noFollow, id: fileID{Dev: st.Dev, Ino: st.Ino}}
	if err := s.read(f, fd, int(st.Size), true); err != nil {
		closeFD(fd)
		return nil, &PathError{Path: path, Err: err}
	}
	if !f.snapOn() {
		closeFD(fd)
	}
	return f, nil
}

// ReadFD reads the file open at fd, of size bytes (as fstat said), as
// Open reads a path: for a caller that opened the file itself (cleanstats
// opens it through its directory). The descriptor stays the caller's,
// and must stay open while the File's values are read; name is what
// Path returns, and what Update opens again. The File is valid until the
// next Open or ReadFD of s.
func (s *Snapshot) ReadFD(fd int, name string, size int64) (*File, error) {
	s.Close()
	f := &File{path: name}
	if err := s.read(f, fd, int(size), false); err != nil {
		return nil, &PathError{Path: name, Err: err}
	}
	return f, nil
}

// Close closes the File read last, and lets the buffer be used again.
func (s *Snapshot) Close() {
	if s.last != nil {
		s.last.Close()
		s.last = nil
	}
}

// buffer returns s's buffer for n bytes.
func (s *Snapshot) buffer(n int) []byte {
	if cap(s.buf) < n {
		s.buf = nil // the old one can go first
		b := make([]byte, n+63)
		k := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & 63)
		s.buf = b[k : k+n : k+n]
	}
	return s.buf[:n]
}

// read fills f from the file at fd: a copy in s's buffer, or a mapping
// for a large file. ownFD says that f may keep fd (and close it).
func (s *Snapshot) read(f *File, fd, size int, ownFD bool) error {
	if size <= 0 {
		return ErrEmpty
	}
	if size > MaxSnapshot {
		if err := f.mapAndParse(fd, size); err != nil {
			return err
		}
		s.last = f // unmapped by the next Open, as a copy is let go
		return nil
	}
	data := s.buffer(size)
	keep := func(sh *shape, partial bool) {
		f.data, f.idx, f.shape, f.layout = data, &sh.idx, sh, &sh.layout
		if f.snap == nil { // a File read into again (ReadFDInto) keeps its own
			f.snap = new(snapState)
		}
		*f.snap = snapState{fd: fd, on: true, ownFD: ownFD, unsettled: len(sh.regions) > 0, noBuckets: partial}
		s.last = f
	}
	// The files of one size have most often the layout that a file of
	// that size had last: read only its bytes, and check them.
	var cands [maxShapes]*shape
	if c := shapes.candidates(size, &cands); len(c) > 0 {
		sh := c[0]
		if err := preadRanges(fd, data, sh.ranges); err != nil {
			return err
		}
		if sh.matches(data, size) {
			shapes.used(sh)
			keep(sh, true)
			return nil
		}
	}
	if err := preadAll(fd, data, 0); err != nil {
		return err
	}
	if sh := shapes.find(data, size); sh != nil {
		keep(sh, false)
		return nil
	}
	idx := newIndex()
	if err := idx.extend(data); err != nil {
		return err
	}
	if sh := shapeOf(data, size, &idx, false); sh != nil {
		keep(sh, false)
		return nil
	}
	// No shape (too many fields): stabilized now, with its own index.
	if err := stabilize(fd, data, &idx); err != nil {
		return err
	}
	f.data, f.idx = data, &idx
	s.last = f
	return nil
}

// preadRanges reads the ranges rs of the file at fd into data, at the
// same offsets.
func preadRanges(fd int, data []byte, rs []byteRange) error {
	for _, r := range rs {
		if err := preadAll(fd, data[r.off:r.end], r.off); err != nil {
			return err
		}
	}
	return nil
}

// preadAll fills b from offset off of fd. A file that ends before is one
// that shrank since its size was taken: ErrFault, as a mapping's fault.
func preadAll(fd int, b []byte, off int) error {
	for len(b) > 0 {
		n, err := pread(fd, b, int64(off))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrFault
		}
		b, off = b[n:], off+n
	}
	return nil
}

// settle makes a Snapshot's copy safe to read values from, once: it reads
// the strings and groups under a sequence word again (whole says: and
// the bucket counts left out, for ReadHistogram). A File that is not a
// Snapshot's has nothing to do.
func (f *File) settle(whole bool) error {
	st := f.snap
	if st == nil || !st.on {
		return nil
	}
	if st.err != nil {
		return st.err
	}
	if whole && st.noBuckets {
		st.noBuckets, st.unsettled = false, true
	} else if !st.unsettled {
		return nil
	}
	st.unsettled = false
	st.err = settleCopy(st.fd, f.data, f.shape, whole)
	return st.err
}

// settleField is settle for a read of field i alone: a field outside
// the regions under a sequence word (a counter, sys.pid) reads from the
// copy as it is.
func (f *File) settleField(i int) error {
	st := f.snap
	if st == nil || !st.on || !st.unsettled && st.err == nil || i < 0 || i >= f.ix().len() {
		return nil
	}
	off := int(f.ix().offs[i])
	rs := f.shape.regions
	k := sort.Search(len(rs), func(k int) bool { return rs[k].end > off })
	if k == len(rs) || rs[k].start > off {
		return nil
	}
	return f.settle(false)
}

// settleCopy reads again, under their sequence words, the regions of
// the copy data of a file of shape sh: the bytes that hold them (whole:
// the whole file), then each sequence word. The first read gave the
// words before; a region is consistent when its word before and after
// says no write overlapped (the rules of copyConsistent), as long as it
// all took less than maxCopyTime. A region that is not is read again on
// its own until it is (copyConsistent). Three reads of the file's bytes
// and one of each word, rather than three for each region.
func settleCopy(fd int, data []byte, sh *shape, whole bool) error {
	regions := sh.regions
	var small [16]uint32
	before := small[:0]
	for _, r := range regions {
		s, _ := wordAt(data, r.seq)
		before = append(before, s)
	}
	begin := time.Now()
	if whole {
		if err := preadAll(fd, data, 0); err != nil {
			return err
		}
	} else {
		k := 0 // the first region not yet past
		for _, rg := range sh.ranges {
			for k < len(regions) && regions[k].end <= rg.off {
				k++
			}
			if k < len(regions) && regions[k].start < rg.end {
				if err := preadAll(fd, data[rg.off:rg.end], rg.off); err != nil {
					return err
				}
			}
		}
	}
	if !sh.matches(data, len(data)) {
		return ErrFault // rewritten under the reader
	}
	var w [8]byte
	var small2 [16]uint32
	var small3 [16]bool
	after, oks := small2[:0], small3[:0]
	for _, r := range regions {
		if err := preadAll(fd, w[:], r.seq); err != nil {
			return err
		}
		s, ok := v1.DecodeSeq(w)
		after, oks = append(after, s), append(oks, ok)
	}
	fresh := time.Since(begin) < maxCopyTime
	wait := maxStringWait
	for k, r := range regions {
		if !oks[k] { // not a sequence word: nothing to protect
			continue
		}
		s1, s2 := before[k], after[k]
		if fresh && ((r.group && s1%2 == 0 && s1 == s2) || (!r.group && consistent(s1, s2))) {
			continue
		}
		if err := copyConsistent(fd, data, r.start, r.end, r.seq, r.group, &wait); err != nil {
			return err
		}
	}
	return nil
}

// wordAt decodes the sequence word at off of data.
func wordAt(data []byte, off int) (uint32, bool) {
	var w [8]byte
	copy(w[:], data[off:off+8])
	return v1.DecodeSeq(w)
}
