package reader

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"
)

// index is the compact layout that a File keeps: where each field starts
// (4 bytes a field) and the runs of fields that form groups. A Field, with
// its label and signature text, takes about 200 bytes; a file of millions
// of tiny fields (8 bytes each in the format) would make a reader that
// holds them use 25 times the file's size. What a Field holds is parsed
// again from the file when it is needed.
type index struct {
	offs   []uint32 // the offset of each field's label_sz
	groups []span   // the groups, in file order
	end    int      // as Layout.End
	head   int      // the field index of the last group head, or -1
}

// span is a group: its head's field index and the index past its last
// member.
type span struct{ head, end uint32 }

// maxIndexed bounds the offsets an index holds. A file whose fields go on
// past 4 GiB is refused: the writer makes files of a few pages.
const maxIndexed = math.MaxUint32

func newIndex() index { return index{end: 1, head: -1} }

// noIndex is the index of a File that is not open (closed, zero, or
// whose open failed; see File.ix): empty, and never modified (own
// copies it first).
var noIndex index

// len returns the number of fields.
func (x *index) len() int { return len(x.offs) }

// extend indexes the fields from x.end onwards. On error x keeps the
// fields indexed before the broken one.
func (x *index) extend(data []byte) error {
	if len(data) > 0 && data[0] != Version1 {
		_, err := Parse(data[:1])
		return err
	}
	for {
		f, next, err := parseField(data, x.end, false)
		if err != nil {
			return err
		}
		if next == x.end {
			return nil
		}
		if uint64(x.end) > maxIndexed || uint64(len(x.offs)) >= maxIndexed {
			return &FormatError{Offset: x.end, Err: ErrTooLarge}
		}
		i := uint32(len(x.offs))
		switch f.Meta.Role {
		case GroupHead:
			x.head = int(i)
			x.groups = append(x.groups, span{head: i, end: i + 1})
		case GroupMember:
			if x.head >= 0 {
				x.groups[len(x.groups)-1].end = i + 1
			}
		default:
			x.head = -1
		}
		x.offs = append(x.offs, uint32(x.end))
		x.end = next
	}
}

// group returns the index of the head of field i's group, or -1.
func (x *index) group(i int) int {
	// The first group whose head comes after i; the one before may hold i.
	k := sort.Search(len(x.groups), func(k int) bool { return int(x.groups[k].head) > i })
	if k > 0 && i < int(x.groups[k-1].end) {
		return int(x.groups[k-1].head)
	}
	return -1
}

// field parses field i again from data, with its label and signature text
// if full. A field that no longer parses where it was (the file was
// rewritten under the reader) is an error.
func (x *index) field(data []byte, i int, full bool) (Field, error) {
	o := int(x.offs[i])
	f, next, err := parseField(data, o, full)
	if err == nil && next == o {
		err = &FormatError{Offset: o, Err: ErrTruncated, Detail: fmt.Sprintf("field %d is gone (file rewritten?)", i)}
	}
	if err != nil {
		return Field{}, err
	}
	f.Group = -1
	if f.Meta.Role != Standalone {
		f.Group = x.group(i)
	}
	return f, nil
}

// find returns the index of the first field whose label is label, or -1.
// It reads only the labels, as Field.Label decodes them: a label with
// invalid UTF-8 is compared without its invalid bytes.
func (x *index) find(data []byte, label string) int {
	if !utf8.ValidString(label) {
		return -1 // no decoded label has invalid UTF-8
	}
	for i, o := range x.offs {
		start := int(o) + 2
		if start > len(data) {
			break // the file was rewritten under the reader
		}
		end := start + int(binary.NativeEndian.Uint16(data[start-2:]))
		if end > len(data) {
			break
		}
		raw := data[start:end]
		if string(raw) == label || len(raw) > len(label) && !utf8.Valid(raw) && utf8Ignore(raw) == label {
			return i
		}
	}
	return -1
}

// brokenField stands for a field that no longer parses: reading its value
// gives ErrTruncated.
func brokenField(offset, group int) Field {
	return Field{Offset: offset, WriteBuffer: -1, Value: -1, Seq: -1, Group: group}
}
