package reader

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/mmstats/mmstats/internal/v1"
)

// Version1 is the version byte of format v1.
const Version1 = v1.Version1

// Field is the layout of one field: where its parts are in the file.
type Field struct {
	Label       string    // the label, decoded as UTF-8 (invalid bytes dropped)
	Sig         Signature // the parsed type signature
	Offset      int       // offset of label_sz: where the field starts
	WriteBuffer int       // offset of the write_buffer byte
	Buffered    bool      // true when write_buffer was 0 or 1 at parse time
	Value       int       // offset of the value, or of the first buffer
	Seq         int       // offset of the Go writer's sequence word, or -1
	Meta        Meta      // the Go writer's metadata: kind, unit, group role, aggregation
	// Group is the index in Layout.Fields of the head of the field's
	// group, for heads and members; -1 for a standalone field.
	Group int
	// Buckets locates the histogram buckets that the field's pad bytes
	// hold, for the group member that carries them (HasBuckets).
	Buckets Buckets
}

// End returns the offset just past the field.
func (f *Field) End() int {
	if f.Buffered {
		return f.Value + 2*f.Sig.Size
	}
	return f.Value + f.Sig.Size
}

// Layout is the parsed structure of a file: its fields in file order.
type Layout struct {
	Fields []Field
	// End is the offset just past the last field: where the terminating
	// zero label_sz is, or the length of the data if the fields fill it.
	End  int
	head int // index of the last group head, for the members after it
}

// Parse parses the layout of a v1 file held in data. It never panics; a
// broken file gives an error that wraps one of the package's sentinel
// errors, usually inside a *FormatError.
func Parse(data []byte) (*Layout, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	if data[0] != Version1 {
		return nil, &FormatError{Offset: 0, Err: ErrVersion, Detail: fmt.Sprintf("version byte is 0x%02x", data[0])}
	}
	l := &Layout{End: 1, head: -1}
	if err := l.extend(data); err != nil {
		return nil, err
	}
	return l, nil
}

// extend parses fields from l.End onwards, appending them to l. On error l
// keeps the fields parsed before the broken one.
func (l *Layout) extend(data []byte) error {
	for {
		f, next, err := parseField(data, l.End, true)
		if err != nil {
			return err
		}
		if next == l.End {
			return nil
		}
		f.Group = -1
		switch f.Meta.Role {
		case GroupHead:
			l.head = len(l.Fields)
			f.Group = l.head
		case GroupMember:
			f.Group = l.head // -1 if no head came before: read it alone
		default:
			l.head = -1
		}
		l.Fields = append(l.Fields, f)
		l.End = next
	}
}

// parseField parses the field at offset o. It returns next == o at the end
// of the field list. Without full, it leaves the label and the signature's
// text empty and allocates nothing (but for an error): enough to find the
// fields and read their values' places.
func parseField(data []byte, o int, full bool) (f Field, next int, err error) {
	n := len(data)
	if o >= n {
		return f, o, nil
	}
	if o+2 > n {
		if data[o] == 0 {
			return f, o, nil
		}
		return f, o, &FormatError{Offset: o, Err: ErrTruncated, Detail: "label size runs past the end"}
	}
	labelSize := int(binary.NativeEndian.Uint16(data[o:]))
	if labelSize == 0 {
		return f, o, nil
	}
	t := o + 2 + labelSize
	if t > n {
		return f, o, &FormatError{Offset: o, Err: ErrTruncated, Detail: fmt.Sprintf("label of %d bytes runs past the end", labelSize)}
	}
	f.Offset = o
	label := data[o+2 : t]
	if full {
		f.Label = utf8Ignore(label)
	}
	if t+2 > n {
		return f, o, &FormatError{Offset: o, Label: utf8Ignore(label), Err: ErrTruncated, Detail: "type size runs past the end"}
	}
	typeSize := int(binary.NativeEndian.Uint16(data[t:]))
	w := t + 2 + typeSize
	if w+1 > n {
		return f, o, &FormatError{Offset: o, Label: utf8Ignore(label), Err: ErrTruncated, Detail: "type signature runs past the end"}
	}
	rawType := data[t+2 : w]
	f.Sig, err = parseSignature(rawType, full)
	if err != nil {
		detail := strings.TrimPrefix(err.Error(), ErrSignature.Error()+": ")
		return f, o, &FormatError{Offset: o, Label: utf8Ignore(label), Err: ErrSignature, Detail: detail}
	}
	f.WriteBuffer = w
	f.Value = w + 1
	f.Seq = -1
	skip, carries := 0, false
	if m, size, buckets, ok := parseMeta(rawType); ok {
		f.Meta, skip, carries = m, size, buckets
	}
	if f.Meta.Role == GroupHead {
		if f.Seq = seqOffset(rawType, t+2, skip); f.Seq < 0 {
			f.Meta.Role = Standalone // no sequence word: not a usable head
		}
	}
	switch wb := data[w]; wb {
	case v1.Unbuffered:
	case 0, 1:
		f.Buffered = true
		if f.Sig.Code == 's' || f.Sig.Code == 'p' {
			f.Seq = seqOffset(rawType, t+2, skip)
		}
	default:
		return f, o, &FormatError{Offset: o, Label: utf8Ignore(label), Err: ErrWriteBuffer, Detail: fmt.Sprintf("0x%02x", wb)}
	}
	if end := f.End(); end > n || end < f.Value {
		return f, o, &FormatError{Offset: o, Label: utf8Ignore(label), Err: ErrTruncated, Detail: fmt.Sprintf("value of %d bytes runs past the end", end-f.Value)}
	}
	if carries {
		f.Buckets = parseBuckets(rawType[skip:], &f)
	}
	return f, f.End(), nil
}

// seqOffset finds the sequence word the Go writer keeps in the leading
// whitespace of a buffered string's or a group head's type signature: the
// first 8-aligned 8 bytes of that whitespace after the skip bytes of the
// metadata prefix. It returns -1 when there is none.
func seqOffset(rawType []byte, start, skip int) int {
	lead := 0
	for lead < len(rawType) && isStructSpace(rawType[lead]) {
		lead++
	}
	a := (start + skip + 7) &^ 7
	if a+8 <= start+lead {
		return a
	}
	return -1
}
