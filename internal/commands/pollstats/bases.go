package pollstats

import (
	"math"

	"github.com/mmstats/mmstats/pkg/reader"
)

// The baselines. Each file has one per column, the value its change is
// counted from: they are kept once, here, for every file, in flat rows
// (a file's row is its slot), and the hot loop (hot.go) reads and writes
// them where they are: before each hot run the rows are put in the order
// of p.active (order), so that the hot loop's file k has row k. Nothing
// is copied between a tracked entry and the hot arrays, and neither
// holds the baselines twice (100,000 files, 4 columns: 6.4 MB of
// baselines in the entries and 3.2 MB of words in the hot arrays before;
// 3.6 MB here).

// baseStore holds the baselines of the files, n (the columns) a file.
// A baseline is a base: its bits in words and its kind in kinds, apart,
// so that the hot loop loads and stores the bits as words.
type baseStore struct {
	n     int
	words []uint64           // per slot, per column: the baseline's bits
	kinds []reader.ValueKind // and its kind (reader.Invalid: none)
	owner []*tracked         // per slot: the file it is the row of (nil: free)
	free  []int32            // slots free, to reuse
}

// reserve makes room for files more rows, so that the rows of the files
// found at start are made once, not grown.
func (s *baseStore) reserve(files int) {
	if need := len(s.owner) + files; cap(s.owner) < need {
		s.words = append(make([]uint64, 0, need*s.n), s.words...)
		s.kinds = append(make([]reader.ValueKind, 0, need*s.n), s.kinds...)
		s.owner = append(make([]*tracked, 0, need), s.owner...)
	}
}

// alloc gives t a row, its baselines none (the zero base), unless it
// has one.
func (s *baseStore) alloc(t *tracked) {
	if t.slot != 0 {
		return
	}
	var k int
	if n := len(s.free); n > 0 {
		k = int(s.free[n-1])
		s.free = s.free[:n-1]
		clear(s.words[k*s.n : (k+1)*s.n])
		clear(s.kinds[k*s.n : (k+1)*s.n])
	} else {
		k = len(s.owner)
		s.owner = append(s.owner, nil)
		for range s.n {
			s.words = append(s.words, 0)
			s.kinds = append(s.kinds, reader.Invalid)
		}
	}
	s.owner[k] = t
	t.slot, t.bases = int32(k+1), s
}

// release frees t's row, when t no longer stands for its file (removed,
// or replaced by another file at its path, which gets a row of its own).
func (s *baseStore) release(t *tracked) {
	if t.slot == 0 || t.bases != s {
		return
	}
	k := int(t.slot) - 1
	s.owner[k] = nil
	s.free = append(s.free, int32(k))
	t.slot, t.bases = 0, nil
}

// order moves the rows so that file k of files (each with a row) has
// row k, and returns false if one has none.
func (s *baseStore) order(files []*tracked) bool {
	for k, t := range files {
		if t.slot == 0 || t.bases != s {
			return false
		}
		j := int(t.slot) - 1
		if j == k {
			continue
		}
		// Row k goes where t's was, with its owner (a file, or none).
		n := s.n
		for c := range n {
			s.words[k*n+c], s.words[j*n+c] = s.words[j*n+c], s.words[k*n+c]
			s.kinds[k*n+c], s.kinds[j*n+c] = s.kinds[j*n+c], s.kinds[k*n+c]
		}
		u := s.owner[k]
		s.owner[k], s.owner[j] = t, u
		t.slot = int32(k + 1)
		if u != nil {
			u.slot = int32(j + 1)
		}
	}
	// A free row may have moved: the free ones are found again.
	s.free = s.free[:0]
	for k, u := range s.owner {
		if u == nil {
			s.free = append(s.free, int32(k))
		}
	}
	return true
}

// prevRow is a file's baselines: the row of its slot, or none (a file
// never bound: its baselines read as none, and are not set).
type prevRow struct {
	words []uint64
	kinds []reader.ValueKind
}

// prev returns t's baselines, one per column: the value read last, that
// its change is counted from.
func (t *tracked) prev() prevRow {
	if t.slot == 0 {
		return prevRow{}
	}
	s, k := t.bases, int(t.slot)-1
	return prevRow{s.words[k*s.n : (k+1)*s.n], s.kinds[k*s.n : (k+1)*s.n]}
}

// len returns the number of baselines: the columns, or 0.
func (r prevRow) len() int { return len(r.words) }

// get returns the baseline of column c (none past the row).
func (r prevRow) get(c int) base {
	if c >= len(r.words) {
		return base{}
	}
	return base{kind: r.kinds[c], bits: r.words[c]}
}

// set sets the baseline of column c (nothing past the row).
func (r prevRow) set(c int, b base) {
	if c < len(r.words) {
		r.words[c], r.kinds[c] = b.bits, b.kind
	}
}

// base is a baseline: the Value of a number field (or none) as its kind
// and bits (a reader.Value has room for a string too, which a baseline
// never is: a string column is left out of a file).
type base struct {
	kind reader.ValueKind
	bits uint64
}

// baseOf returns the baseline of v; a string's is of its kind, empty.
func baseOf(v reader.Value) base {
	switch v.Kind() {
	case reader.Int:
		return base{reader.Int, uint64(v.Int())}
	case reader.Uint:
		return base{reader.Uint, v.Uint()}
	case reader.Float:
		return base{reader.Float, math.Float64bits(v.Float())}
	case reader.Bool:
		if v.Bool() {
			return base{reader.Bool, 1}
		}
	}
	return base{kind: v.Kind()}
}

// value returns the Value of baseline b.
func (b base) value() reader.Value {
	switch b.kind {
	case reader.Int:
		return reader.IntValue(int64(b.bits))
	case reader.Uint:
		return reader.UintValue(b.bits)
	case reader.Float:
		return reader.FloatValue(math.Float64frombits(b.bits))
	case reader.Bool:
		return reader.BoolValue(b.bits != 0)
	case reader.String:
		return reader.StringValue("")
	}
	return reader.Value{}
}
