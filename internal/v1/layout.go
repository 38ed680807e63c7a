package v1

import "encoding/binary"

// Slot is where a field lands in a file: the offsets of its parts and its
// padded type signature. The writer (pkg/mmstats) and the totals file
// (internal/fold) lay out their fields with Place, so that both keep the
// same alignment rules.
type Slot struct {
	Offset int    // label_sz
	Type   []byte // the padded type signature
	WB     int    // the write_buffer byte
	Value  int    // the value, or buffers[0]
	Seq    int    // the sequence word, or -1
	End    int    // just past the field
}

// Spec is what Place needs to know about a field besides its label.
type Spec struct {
	// Prefix starts the type signature: the metadata (EncodeMeta) and,
	// for a member carrying histogram buckets, the bucket descriptor.
	Prefix []byte
	// Code is the struct format without padding: "Q", "255s", "Q15376x".
	Code string
	// Size is calcsize(Code): the bytes of one value.
	Size int
	// Align is the alignment the value needs; 0 means that of its size
	// (8, 4 or 2, else 1).
	Align int
	// Buffered: two buffers and a write_buffer index of 0 or 1.
	Buffered bool
	// Seq: the signature holds a sequence word (a buffered string, a
	// group head).
	Seq bool
}

// AlignOf is the alignment a value of n bytes needs for atomic access.
func AlignOf(n int) int {
	switch n {
	case 8, 4, 2:
		return n
	}
	return 1
}

// Place lays out a field with a label of labelLen bytes whose label_sz
// goes at offset o.
//
// The type signature starts with s.Prefix. Then, with s.Seq, comes an
// 8-aligned sequence word (EncodeSeq(0)). Then spaces pad the signature
// before the code, which Python's struct module ignores, until (1) the
// value is aligned for its size, so that 8- and 4-byte values are single
// aligned words and 1- and 2-byte values sit inside one aligned 4-byte
// word; and (2) the field ends at a multiple of 4, so that the next
// field's label_sz and first label bytes form one aligned word that can
// be published with a single atomic store. ok is false only if no
// padding of fewer than 8 bytes does it, which cannot happen.
func Place(o, labelLen int, s Spec) (slot Slot, ok bool) {
	t0 := o + 2 + labelLen + 2 // first byte of the type signature
	typ := append([]byte(nil), s.Prefix...)
	seq := -1
	if s.Seq {
		at := t0 + len(typ)
		pre := (8 - at%8) % 8
		typ = append(typ, "       "[:pre]...)
		seq = at + pre
		word := EncodeSeq(0)
		typ = append(typ, word[:]...)
	}
	values := s.Size
	if s.Buffered {
		values *= 2
	}
	align := s.Align
	if align == 0 {
		align = AlignOf(s.Size)
	}
	for pad := 0; pad < 8; pad++ {
		wb := t0 + len(typ) + pad + len(s.Code)
		v := wb + 1
		if v%align == 0 && (v+values)%4 == 0 {
			for i := 0; i < pad; i++ {
				typ = append(typ, ' ')
			}
			typ = append(typ, s.Code...)
			return Slot{Offset: o, Type: typ, WB: wb, Value: v, Seq: seq, End: v + values}, true
		}
	}
	return Slot{}, false
}

// WriteHeader writes a field's label, type signature and write_buffer
// byte into mem, and its label_sz unless skipSize (the writer publishes
// it last, with one atomic store).
func WriteHeader(mem []byte, s Slot, label string, buffered, skipSize bool) {
	o := s.Offset
	if !skipSize {
		binary.NativeEndian.PutUint16(mem[o:], uint16(len(label)))
	}
	copy(mem[o+2:], label)
	t := o + 2 + len(label)
	binary.NativeEndian.PutUint16(mem[t:], uint16(len(s.Type)))
	copy(mem[t+2:], s.Type)
	if buffered {
		mem[s.WB] = 0
	} else {
		mem[s.WB] = Unbuffered
	}
}

// NativeOrder reports whether the values of a type signature whose
// byte-order character is order ('<', '>', '!', '@', '=', or 0 for none)
// are stored in this machine's byte order: a word loaded from the file is
// then the value's bits as they are, with nothing to swap.
func NativeOrder(order byte) bool {
	little := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	switch order {
	case '<':
		return little
	case '>', '!':
		return !little
	}
	return true // '@', '=', none: native
}
