package pollstats

import (
	"slices"

	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// Reading a file's values as words. The values that pollstats reads of
// most files each interval are 8-byte counters and gauges: a file whose
// fields read (idx) are all such words, at offsets that the files of its
// layout share, is read with reader.File.LoadWords, one atomic load per
// value, rather than through reader.File.Values, which goes through the
// fields it keeps parsed per file (a few hundred bytes each, cache lines
// that every interval would touch in every file). The file's parsed
// fields are dropped then (reader.File.Forget): a third of what a mapped
// file costs in memory.

// spot is where one of a file's fields read is, as a word.
type spot struct {
	off int // in the file; -1: the file lacks the field (the zero Value)
	sig reader.Signature
	ok  bool // the field is a word (or lacking)
}

// absentSpot is the spot of a field the file lacks.
var absentSpot = spot{off: -1, ok: true}

// wordAt returns the spot of field f.
func wordAt(f *reader.Field) spot {
	off, ok := f.WordAt()
	if !ok {
		return spot{}
	}
	return spot{off: off, sig: f.Sig, ok: true}
}

// wordRead reads the fields of a file, as words. It is never modified
// once made, and may be shared by the files of one layout (shared.go).
type wordRead struct {
	load []int // the offsets loaded, in order
	lo   int   // the span of the words loaded: [lo, hi)
	hi   int
	at   []int              // per field read: its position in load, or -1 (lacking)
	sigs []reader.Signature // per field read
	// summed: every column the file has is a sum (aggregate.Sum), with
	// no weight, histogram or sys.created read: the file can be read by
	// the hot loop (hot.go), whose delta and meta are the columns'.
	summed bool
	delta  []bool
	meta   []reader.Meta
}

// newWordRead returns how to read the fields idx of file f as words,
// from their spots, or nil if one is not a word.
func newWordRead(t *tracked, spots []spot) *wordRead {
	f, idx := t.f, t.idx
	if f == nil || len(spots) != len(idx) {
		return nil
	}
	w := &wordRead{at: make([]int, len(idx)), sigs: make([]reader.Signature, len(idx))}
	w.summed = len(idx) == len(t.cols) && t.created < 0 && len(t.hists) == 0
	for c, b := range t.cols {
		if idx[c] >= 0 && (b.policy != aggregate.Sum || b.weight >= 0 || b.hist >= 0) {
			w.summed = false
		}
	}
	if w.summed {
		w.delta = t.delta
		w.meta = make([]reader.Meta, len(t.cols))
		for c, b := range t.cols {
			w.meta[c] = b.meta
		}
	}
	for k, s := range spots {
		if !s.ok || (s.off < 0) != (idx[k] < 0) {
			return nil
		}
		w.at[k], w.sigs[k] = -1, s.sig
		if s.off >= 0 {
			if len(w.load) == 0 {
				w.lo, w.hi = s.off, s.off+8
			}
			w.lo, w.hi = min(w.lo, s.off), max(w.hi, s.off+8)
			w.at[k] = len(w.load)
			w.load = append(w.load, s.off)
		}
	}
	return w
}

// read reads file f's values into dst, through words, a scratch buffer
// of at least len(w.load). On an error dst is not changed.
func (w *wordRead) read(f *reader.File, dst []reader.Value, words []uint64) error {
	words = words[:len(w.load)]
	if err := f.LoadWords(w.load, words); err != nil {
		return err
	}
	w.decode(words, dst)
	return nil
}

// decode sets dst to the values of the fields read from words, the
// words loaded at w.load: the zero Value for a field the file lacks.
func (w *wordRead) decode(words []uint64, dst []reader.Value) {
	for k, a := range w.at {
		if a < 0 {
			dst[k] = reader.Value{}
			continue
		}
		dst[k] = w.sigs[k].DecodeWord(words[a])
	}
}

// equal reports whether w and v read the same words the same way.
func (w *wordRead) equal(v *wordRead) bool {
	if w == nil || v == nil {
		return w == v
	}
	if len(w.at) != len(v.at) || len(w.load) != len(v.load) || w.summed != v.summed || w.lo != v.lo || w.hi != v.hi ||
		!slices.Equal(w.delta, v.delta) || !slices.Equal(w.meta, v.meta) {
		return false
	}
	for k := range w.at {
		if w.at[k] != v.at[k] || w.sigs[k] != v.sigs[k] {
			return false
		}
	}
	for k := range w.load {
		if w.load[k] != v.load[k] {
			return false
		}
	}
	return true
}
