package reader

import (
	"encoding/binary"
	"runtime/debug"
	"sort"
)

// Reading words: the cheapest poll of a few numbers. A poller that reads
// the same few counters of thousands of files every interval finds
// their offsets once (WordAt, on the Field that Lookup gives) and then
// loads them with LoadWords: one atomic load per value, nothing parsed,
// nothing looked up, one fault guard per file. What it keeps per file is
// the offsets (which files of one layout share) and the words.

// WordAt reports whether the value of field fl is one 8-byte word that
// LoadWords can load: an unbuffered 8-byte number (q, Q or d). off is
// where it starts in the file. A word at a multiple of 8 (the Go
// writer's) is loaded with one atomic load; another (a packed Python
// file's) as Value reads it, from the aligned words it straddles.
func (fl *Field) WordAt() (off int, ok bool) {
	if fl.Buffered || fl.Seq >= 0 || fl.Sig.Size != 8 || fl.Sig.ItemSize != 8 {
		return 0, false
	}
	switch fl.Sig.Code {
	case 'q', 'Q', 'd':
	default:
		return 0, false
	}
	off = fl.Value + fl.Sig.Offset
	if fl.Value < 0 {
		return 0, false
	}
	return off, true
}

// DecodeWord returns the value of a field of signature s whose word (see
// WordAt) LoadWords loaded as w.
func (s *Signature) DecodeWord(w uint64) Value {
	var item [8]byte
	binary.NativeEndian.PutUint64(item[:], w)
	return decode(s, item[:])
}

// LoadWords loads the words at the offsets offs (from Field.WordAt of
// this file's fields) into dst (len(dst) >= len(offs)), each with one
// atomic load, under one fault guard: a mapped file that shrank gives
// ErrFault, an offset past the end ErrTruncated. A Snapshot's copy is
// settled first, as for Values.
func (f *File) LoadWords(offs []int, dst []uint64) (err error) {
	if f.data == nil {
		return ErrClosed
	}
	defer f.wrap(&err)
	for _, off := range offs {
		if err := f.settleWord(off); err != nil {
			return err
		}
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	data := f.data
	for k, off := range offs {
		if off < 0 || off+8 > len(data) {
			return &FormatError{Offset: off, Err: ErrTruncated, Detail: "value runs past the end"}
		}
		loadWords(dst[k:k+1], data, off)
	}
	return nil
}

// Forget drops the fields that Lookup, Value and Values keep parsed for
// the next read (a few hundred bytes each): for a caller that reads the
// file through LoadWords from then on.
func (f *File) Forget() {
	f.cache = nil
}

// Words is the mapping of a File, to load words from without going
// through the File (its struct is one more cache line per file, every
// interval, for a poller of thousands). It is valid until the File is
// closed or updated (Update may map it again): the caller takes it
// again then, and never uses it after Close. It holds the end of the
// File's layout too, for UnchangedWords: one record per file of a
// poller for both its loads and that check.
type Words struct {
	data []byte
	end  int // where the layout ends: its end marker, zero while no field is appended
}

// Words returns f's mapping, and false when f reads a private copy (see
// IsCopy) or a Snapshot's, whose words LoadWords reads.
func (f *File) Words() (Words, bool) {
	if f.data == nil || !f.mapped || f.snapOn() {
		return Words{}, false
	}
	return Words{f.data, f.ix().end}, true
}

// Load is File.LoadWords on the mapping; its errors have no path.
func (w Words) Load(offs []int, dst []uint64) (err error) {
	if w.data == nil {
		return ErrClosed
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	for k, off := range offs {
		if off < 0 || off+8 > len(w.data) {
			return &FormatError{Offset: off, Err: ErrTruncated, Detail: "value runs past the end"}
		}
		loadWords(dst[k:k+1], w.data, off)
	}
	return nil
}

// LoadEach is Words.Load over many mappings, in one pass under one
// fault guard: the words of ws[k] at offs[k] go to dst[k*stride:]. A
// processor runs ahead through such a loop, its loads of many files
// under way at once, where a call per file would leave it waiting on
// each. It stops at the first mapping that fails, returning its
// position in ws and the error (without path); else len(ws) and nil.
func LoadEach(ws []Words, offs [][]int, dst []uint64, stride int) (k int, err error) {
	defer catchFault(&err, debug.SetPanicOnFault(true))
	for k = range ws {
		data, o := ws[k].data, offs[k]
		if data == nil {
			return k, ErrClosed
		}
		d := dst[k*stride : k*stride+len(o)]
		for j, off := range o {
			if off < 0 || off+8 > len(data) {
				return k, &FormatError{Offset: off, Err: ErrTruncated, Detail: "value runs past the end"}
			}
			loadWords(d[j:j+1], data, off)
		}
	}
	return len(ws), nil
}

// settleWord is settleField for the word at off: a Snapshot's copy is
// settled only when the word lies under a sequence word (never a
// counter's), as settleField does for the field.
func (f *File) settleWord(off int) error {
	st := f.snap
	if st == nil || !st.on || !st.unsettled && st.err == nil {
		return nil
	}
	if f.shape == nil {
		return f.settle(false)
	}
	rs := f.shape.regions
	k := sort.Search(len(rs), func(k int) bool { return rs[k].end > off })
	if k == len(rs) || rs[k].start > off+8 {
		return nil
	}
	return f.settle(false)
}
