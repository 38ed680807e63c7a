package reader

import (
	"fmt"

	"github.com/mmstats/mmstats/internal/v1"
)

// Buckets locates a histogram's bucket counts in the pad bytes of the
// group member that carries them (role digit 3, see the package
// documentation): the member's type is "Q" followed by PadSize pad
// bytes, which hold the underflow count, the overflow count and the
// counts of buckets Lo to Lo+N-1, each a native-endian u64.
type Buckets struct {
	Schema int // 2^Schema buckets per power of two (6 for the Go writer)
	Lo     int // the index of the window's first bucket
	N      int // the number of buckets in the window
	// Offset is where the pad region starts in the file (8-aligned).
	Offset int

	carried bool  // role digit 3: the field says it carries buckets
	bad     uint8 // why the descriptor cannot be used, or 0
}

// Why a bucket descriptor cannot be used.
const (
	badNone     = iota
	badDesc     // no 15 digits after the metadata
	badSchema   // schema above v1.MaxSchema
	badType     // not an unbuffered native "Q" followed by pad bytes
	badSize     // the pad bytes do not match N
	badAligned  // the pad region is not 8-aligned
	badBuffered // double buffered
)

// HasBuckets reports whether the field says it carries its group's
// histogram buckets (role digit 3), usable or not.
func (f *Field) HasBuckets() bool { return f.Buckets.carried }

// parseBuckets reads the bucket descriptor that follows the metadata
// (rest is the signature after it) of field f, which says it carries
// buckets. A descriptor that cannot be used is kept with its reason, for
// ReadHistogram to report: the field itself stays a valid v1 field.
func parseBuckets(rest []byte, f *Field) Buckets {
	b := Buckets{carried: true}
	d, ok := v1.DecodeDesc(rest)
	switch {
	case !ok:
		b.bad = badDesc
		return b
	case d.Schema > v1.MaxSchema:
		b.Schema, b.bad = d.Schema, badSchema
		return b
	}
	b.Schema, b.Lo, b.N = d.Schema, d.Lo, d.N
	switch {
	case f.Sig.Code != 'Q' || f.Sig.Order != '@' || f.Sig.Offset != 0:
		b.bad = badType
	case f.Buffered:
		b.bad = badBuffered
	case f.Sig.Size != 8+v1.PadSize(d.N):
		b.bad = badSize
	case (f.Value+8)%8 != 0:
		b.bad = badAligned
	default:
		b.Offset = f.Value + 8
	}
	return b
}

// err returns why the buckets of field f cannot be read, or nil.
func (b *Buckets) err(f *Field, label string) error {
	var detail string
	switch b.bad {
	case badNone:
		return nil
	case badDesc:
		detail = "no bucket descriptor (15 digits) after the metadata"
	case badSchema:
		detail = fmt.Sprintf("schema %d, at most %d", b.Schema, v1.MaxSchema)
	case badType:
		detail = "the type is not a native Q followed by pad bytes"
	case badSize:
		detail = fmt.Sprintf("%d pad bytes, %d buckets need %d", f.Sig.Size-8, b.N, v1.PadSize(b.N))
	case badAligned:
		detail = fmt.Sprintf("pad bytes at offset %d, not 8-aligned", f.Value+8)
	case badBuffered:
		detail = "double buffered"
	}
	return &FormatError{Offset: f.Offset, Label: label, Err: ErrBuckets, Detail: detail}
}
