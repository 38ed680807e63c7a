package reader

// Scan calls fn for each field of the v1 file in data, in file order,
// without keeping them: its memory stays constant whatever the number of
// fields, so a tool can look through a file of millions of tiny fields
// (a hostile one) without holding its layout. The *Field passed to fn is
// reused from one call to the next; fn must copy what it keeps. Field.Group
// is set as Parse sets it. Scan stops when fn returns false, or at the
// first broken field, whose error it returns as Parse does.
func Scan(data []byte, fn func(f *Field) bool) error {
	if len(data) == 0 {
		return ErrEmpty
	}
	if data[0] != Version1 {
		_, err := Parse(data[:1])
		return err
	}
	o, head, index := 1, -1, 0
	for {
		f, next, err := parseField(data, o, true)
		if err != nil {
			return err
		}
		if next == o {
			return nil
		}
		f.Group = -1
		switch f.Meta.Role {
		case GroupHead:
			head = index
			f.Group = head
		case GroupMember:
			f.Group = head
		default:
			head = -1
		}
		if !fn(&f) {
			return nil
		}
		o = next
		index++
	}
}
