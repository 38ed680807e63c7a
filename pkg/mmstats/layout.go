package mmstats

import (
	"fmt"
	"github.com/mmstats/mmstats/internal/v1"
	"strings"
	"unicode/utf8"

	"github.com/mmstats/mmstats/pkg/reader"
)

// spec describes how a field type is stored: its type code, the size of
// one value, whether it is double buffered, and its default metadata.
type spec struct {
	code     string // the struct format without padding: "Q", "255s"
	size     int    // calcsize(code)
	buffered bool   // two buffers and a write_buffer index of 0 or 1
	seq      bool   // a sequence word for torn-read detection (strings)
	kind     reader.Kind
	unit     string
	aggr     Aggregation // the type's default policy (AggrDefault: by kind, else sum)
	// align is the alignment of the value, if not that of its size (a
	// histogram's count with its buckets in the pad bytes: 8).
	align int
	// desc follows the metadata in the signature: the bucket descriptor
	// of the group member that carries a histogram's buckets.
	desc []byte
	// merge says how a change made in a value's old place is carried to
	// its new one (see mergeRule); mergeNone for values that only the
	// File's own goroutines write under its locks.
	merge mergeRule
}

// placement is where a field's parts land in the file.
type placement struct {
	offset int    // label_sz
	typ    []byte // the padded type signature
	wb     int    // write_buffer byte
	value  int    // value, or buffers[0]
	seq    int    // sequence word, or -1
	end    int    // just past the field
	size   int    // the value's size (one buffer)
	merge  mergeRule
}

// maxU16 is the largest label or type signature the format can describe.
const maxU16 = 1<<16 - 1

// place lays out a field whose label_sz goes at offset o, by the rules
// of v1.Place (which the totals file of internal/fold follows too).
//
// The type signature starts with the metadata prefix (v1.MetaSize2
// bytes of whitespace: kind, unit, group role, aggregation), and the
// bucket descriptor of a member that carries a histogram's buckets
// (s.desc, whose role becomes v1.RoleBuckets). Then, for a buffered
// string or a group head, comes an 8-aligned sequence word (see
// v1.EncodeSeq). Then spaces pad the signature before the code,
// which Python's struct module ignores, until (1) the value is aligned for
// its size, so that 8- and 4-byte values are single aligned words and 1-
// and 2-byte values sit inside one aligned 4-byte word; and (2) the field
// ends at a multiple of 4, so that the next field's label_sz and first
// label bytes form one aligned word that can be published with a single
// atomic store.
func place(o int, label string, s spec, meta reader.Meta) (placement, error) {
	if label == "" {
		return placement{}, ErrEmptyLabel
	}
	if len(label) > maxU16 {
		return placement{}, fmt.Errorf("%w: label of %d bytes", ErrLabelTooLong, len(label))
	}
	if !validLabel(label) {
		return placement{}, fmt.Errorf("%w: %q", ErrInvalidLabel, label)
	}
	unit, ok := v1.UnitIndex(meta.Unit)
	if !ok {
		return placement{}, modelError("unknown unit %q", meta.Unit)
	}
	role := int(meta.Role)
	if len(s.desc) > 0 && meta.Role == reader.GroupMember {
		role = v1.RoleBuckets
	}
	prefix, ok := v1.EncodeMeta(v1.Meta{Kind: int(meta.Kind), Unit: unit, Role: role, Aggr: int(meta.Aggregation)})
	if !ok {
		return placement{}, modelError("metadata %+v out of range", meta)
	}
	sl, ok := v1.Place(o, len(label), v1.Spec{Prefix: append(prefix, s.desc...), Code: s.code, Size: s.size,
		Align: s.align, Buffered: s.buffered, Seq: s.seq || meta.Role == reader.GroupHead})
	if !ok {
		// Unreachable: some pad in [0, 8) always satisfies both rules.
		return placement{}, fmt.Errorf("mmstats: no layout for %q at offset %d", s.code, o)
	}
	return placement{offset: sl.Offset, typ: sl.Type, wb: sl.WB, value: sl.Value, seq: sl.Seq, end: sl.End, size: s.size, merge: s.merge}, nil
}

// writeHeader writes the field's label, type signature and write_buffer
// byte into mem, and its label_sz unless publish is deferred (skipSize).
func writeHeader(mem []byte, p placement, label string, buffered bool, skipSize bool) {
	v1.WriteHeader(mem, v1.Slot{Offset: p.offset, Type: p.typ, WB: p.wb}, label, buffered, skipSize)
}

// validLabel reports whether s can be a label (or part of one): valid
// UTF-8 without NUL, so that readers, which cut at NUL and replace what is
// not UTF-8, show every label as it was given.
func validLabel(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
