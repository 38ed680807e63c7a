package reader

import (
	"encoding/binary"
	"runtime/debug"
)

// Reading words: the cheapest poll of a few numbers. A poller that reads
// the same few counters of thousands of files every interval finds
// their offsets once (WordAt, on the Field that Lookup gives) and then
// loads them with LoadWords: one atomic load per value, nothing parsed,
// nothing looked up, one fault guard per file. What it keeps per file is
// the offsets (which files of one layout share) and the words.

// WordAt reports whether the value of field fl is one 8-byte word that
// LoadWords can load: an unbuffered 8-byte number (q, Q or d) starting
// at a multiple of 8 in the file, so that it lies in one aligned word of
// a mapping and is never torn. off is where it starts in the file.
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
	if fl.Value < 0 || off%8 != 0 {
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
	if f.snap.on {
		if err := f.settle(false); err != nil {
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
	f.cache, f.next = nil, 0
}
