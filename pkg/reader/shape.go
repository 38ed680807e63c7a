package reader

// Shared layouts. The workers of one program write files with the same
// fields at the same offsets: parsing each of them again, and holding a
// layout for each, is most of what a reader of thousands of files spends.
// A shape is a parsed layout that the files which would parse to it
// share, with what tells such a file: its size, and the bytes that
// parsing depends on.
//
// What parsing a file depends on, field by field, is its label_sz,
// label, type_sz and type bytes, and the class of its write_buffer byte
// (0xff, or 0 and 1), then the end of the list: the zero label_sz after
// the last field, or the end of the file; nothing of the values. Inside
// a type, the bytes of a sequence word change with every write, but only
// as whitespace digits that parsing skips (the metadata, which parsing
// does read, comes before the word). So a file whose size is the shape's,
// whose bytes there are the shape's, whose sequence words are whitespace
// and whose write_buffer bytes are of the shape's classes parses to the
// shape's layout, byte for byte: shape.matches checks exactly that, and
// FuzzShapeMatchesParse checks it against Parse.
//
// A shape is never modified once made: a File that finds fields appended
// to its file, or follows its writer to a larger copy, takes its own
// index first (File.own), so that no other file is ever read through a
// layout its file no longer has.

import (
	"encoding/binary"
	"sync"
)

// The kinds of check of a shape.
const (
	checkExact      = iota // the bytes equal the shape's
	checkSpaces            // a sequence word: whitespace digits
	checkUnbuffered        // a write_buffer byte 0xff
	checkBuffered          // a write_buffer byte 0 or 1
)

// check is a run of bytes a file must hold to have a shape's layout.
type check struct {
	off, n int
	kind   uint8
}

// region is the bytes of a buffered string or of a group, which a copy
// reads again under its sequence word (see File.settle).
type region struct {
	start, end int // the bytes, [start, end)
	seq        int // the offset of the sequence word
	group      bool
}

// byteRange is a run of bytes of a file that a Snapshot reads.
type byteRange struct{ off, end int }

// shape is a layout shared by the files that parse to it.
type shape struct {
	size   int     // the size of the file parsed
	layout Layout  // every field, parsed
	idx    index   // the same as a File's index (its slices clipped: append copies)
	checks []check // what a file must hold to have this layout
	want   []byte  // the bytes of the exact checks, back to back

	// For Snapshot: the bytes that hold the layout and the values
	// (without the histograms' bucket counts), and the regions under a
	// sequence word.
	ranges  []byteRange
	regions []region

	hists shapeHists // its histogram groups, found as they are read
}

// Shapes are made only for files of at most this many fields and this
// many bytes of labels and types (and cached at most maxShapes at once),
// so that what the cache holds stays bounded whatever files it sees:
// about 200 bytes a field parsed, and the bytes checked.
const (
	maxShapeFields = 4096
	maxShapeBytes  = 256 << 10
	maxShapes      = 16
)

// rangeGap is the gap between two runs of bytes a Snapshot needs below
// which it reads the gap too, in one read: a read costs a system call,
// about as much as copying a few pages.
const rangeGap = 4096

// newShape parses data, a stable copy of a file of size bytes (its first
// len(data) bytes: at least up to the zero label_sz after its fields),
// and returns its shape, or nil if it has none: not a valid file, or too
// large to be shared.
func newShape(data []byte, size int) *shape {
	if len(data) == 0 || len(data) > size {
		return nil
	}
	x := newIndex()
	if err := x.extend(data); err != nil || x.len() > maxShapeFields {
		return nil
	}
	if len(data) < size && x.end+2 > len(data) {
		return nil // the end of the list is not in data
	}
	s := &shape{size: size}
	s.layout = Layout{Fields: make([]Field, x.len()), End: x.end, head: x.head}
	for i := range s.layout.Fields {
		f, err := x.field(data, i, true)
		if err != nil {
			return nil
		}
		s.layout.Fields[i] = f
	}
	x.offs = x.offs[:len(x.offs):len(x.offs)]
	x.groups = x.groups[:len(x.groups):len(x.groups)]
	s.idx = x
	s.exact(data, 0, 1) // the version byte
	var need []byteRange
	for i := range s.layout.Fields {
		f := &s.layout.Fields[i]
		o := f.Offset
		t := o + 2 + int(binary.NativeEndian.Uint16(data[o:]))
		typ := data[t+2 : f.WriteBuffer]
		_, skip, _, _ := parseMeta(typ)
		if f.Seq >= 0 && skip > 0 && !f.HasBuckets() {
			// The metadata, then the word: it changes, and parsing
			// only skips it as whitespace.
			s.exact(data, o, f.Seq-o)
			s.checks = append(s.checks, check{off: f.Seq, n: 8, kind: checkSpaces})
			s.exact(data, f.Seq+8, f.WriteBuffer-f.Seq-8)
		} else {
			s.exact(data, o, f.WriteBuffer-o)
		}
		kind := uint8(checkUnbuffered)
		if f.Buffered {
			kind = checkBuffered
		}
		s.checks = append(s.checks, check{off: f.WriteBuffer, n: 1, kind: kind})
		// The bytes of the field a Snapshot reads: all but the pad bytes
		// of a bucket carrier, which only ReadHistogram reads.
		end := f.End()
		if f.HasBuckets() {
			end = f.Value + f.Sig.Offset + f.Sig.ItemSize
			if f.Buffered {
				end = f.End()
			}
		}
		need = appendRange(need, byteRange{o, end})
	}
	if end := min(x.end+2, size); x.end < end {
		s.exact(data, x.end, end-x.end) // the end of the list
		need = appendRange(need, byteRange{x.end, end})
	}
	if len(s.want) > maxShapeBytes {
		return nil
	}
	s.ranges = append([]byteRange{{0, 1}}, need...)
	s.ranges = mergeRanges(s.ranges)
	s.regions = regionsOf(&s.layout, &x)
	return s
}

// exact adds a check that data[off:off+n] is what it is now.
func (s *shape) exact(data []byte, off, n int) {
	if n <= 0 {
		return
	}
	if k := len(s.checks) - 1; k >= 0 && s.checks[k].kind == checkExact && s.checks[k].off+s.checks[k].n == off {
		s.checks[k].n += n // contiguous: one check
	} else {
		s.checks = append(s.checks, check{off: off, n: n, kind: checkExact})
	}
	s.want = append(s.want, data[off:off+n]...)
}

// appendRange adds r to rs, sorted by offset, joining it to the last
// range when they touch.
func appendRange(rs []byteRange, r byteRange) []byteRange {
	if k := len(rs) - 1; k >= 0 && r.off <= rs[k].end {
		rs[k].end = max(rs[k].end, r.end)
		return rs
	}
	return append(rs, r)
}

// mergeRanges joins ranges (sorted, apart) less than rangeGap apart.
func mergeRanges(rs []byteRange) []byteRange {
	out := rs[:0]
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r.off-out[k].end < rangeGap {
			out[k].end = max(out[k].end, r.end)
			continue
		}
		out = append(out, r)
	}
	return out
}

// regionsOf returns the regions of l under a sequence word: each buffered
// string, and each group from its head to its last member.
func regionsOf(l *Layout, x *index) []region {
	var out []region
	groups := x.groups
	for i := 0; i < len(l.Fields); i++ {
		f := &l.Fields[i]
		if f.Seq < 0 {
			continue
		}
		r := region{start: f.Offset, end: f.End(), seq: f.Seq}
		if f.Meta.Role == GroupHead {
			r.group = true
			for len(groups) > 0 && int(groups[0].head) < i {
				groups = groups[1:]
			}
			if len(groups) > 0 && int(groups[0].head) == i && int(groups[0].end) > i+1 {
				i = int(groups[0].end) - 1
				r.end = l.Fields[i].End()
			}
		}
		out = append(out, r)
	}
	return out
}

// matches reports whether data, a file's bytes (a mapping, or a copy
// holding at least the bytes of the shape's checks), parses to the
// shape's layout. On a mapping it may fault: the caller catches it.
func (s *shape) matches(data []byte, size int) bool {
	if size != s.size || len(data) < s.size {
		return false
	}
	want := s.want
	for _, c := range s.checks {
		b := data[c.off : c.off+c.n]
		switch c.kind {
		case checkExact:
			if string(b) != string(want[:c.n]) {
				return false
			}
			want = want[c.n:]
		case checkSpaces:
			for _, x := range b {
				if !isStructSpace(x) {
					return false
				}
			}
		case checkUnbuffered:
			if b[0] != 0xff {
				return false
			}
		case checkBuffered:
			if b[0] > 1 {
				return false
			}
		}
	}
	return true
}

// shapeCache holds the shapes seen last, the one matched last first.
// Shapes are immutable: the lock guards only the list.
type shapeCache struct {
	mu   sync.Mutex
	list []*shape
}

// shapes is the cache every File and Snapshot of the process shares.
var shapes shapeCache

// candidates copies into dst the cached shapes of files of size bytes,
// the one matched last first.
func (c *shapeCache) candidates(size int, dst *[maxShapes]*shape) []*shape {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := dst[:0]
	for _, s := range c.list {
		if s.size == size {
			out = append(out, s)
		}
	}
	return out
}

// find returns the cached shape that data (a file of size bytes: a
// mapping or a copy) has, or nil. On a mapping it may fault: the caller
// catches it.
func (c *shapeCache) find(data []byte, size int) *shape {
	var buf [maxShapes]*shape
	for _, s := range c.candidates(size, &buf) {
		if s.matches(data, size) {
			c.used(s)
			return s
		}
	}
	return nil
}

// used moves s to the front of the list (or adds it there), so that the
// files of the program read last match at the first try; the shape used
// least recently goes when the list is full.
func (c *shapeCache) used(s *shape) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.list) > 0 && c.list[0] == s {
		return
	}
	k := 0
	for k < len(c.list) && c.list[k] != s {
		k++
	}
	if k == len(c.list) {
		if len(c.list) < maxShapes {
			c.list = append(c.list, nil)
		} else {
			k = len(c.list) - 1
		}
	}
	copy(c.list[1:k+1], c.list[:k])
	c.list[0] = s
}
