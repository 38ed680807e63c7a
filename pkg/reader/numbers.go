package reader

import "runtime/debug"

// ReadNumbers reads the current value of every numeric field of f into
// dst[i], i the field's index (as for Value): the values that ScanStats
// would give, a group's read as one snapshot, but without reading the
// strings, whose values are left as they are in dst (a string's value
// is a new string each time it is read). With the layout built (Layout)
// or shared, it does not allocate: a server that reads the same files
// over and over (mmash) reads them at the cost of their loads alone.
// len(dst) must be at least f.Len(). A field that cannot be read is an
// error, as in ScanStats; the values before it are in dst.
func (f *File) ReadNumbers(dst []Value) (err error) {
	if f.data == nil {
		return ErrClosed
	}
	defer f.wrap(&err)
	if err := f.settle(false); err != nil {
		return err
	}
	l := f.Layout()
	fields := l.Fields
	if len(dst) < len(fields) {
		return errShortDst
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	r := newStatReader(f.data, nil)
	defer r.free()
	groups := f.ix().groups
	for i := 0; i < len(fields); {
		for len(groups) > 0 && int(groups[0].head) < i {
			groups = groups[1:]
		}
		if len(groups) > 0 && int(groups[0].head) == i && int(groups[0].end) > i+1 {
			end := min(int(groups[0].end), len(fields))
			for k := i; k < end; k += MaxGroup {
				n := min(end, k+MaxGroup)
				if r.stats, err = readGroup(f.data, &fields[i], fields[k:n], r.stats[:0], &r.wait); err != nil {
					return err
				}
				for j := range r.stats {
					dst[k+j] = r.stats[j].Value
				}
				clear(r.stats)
			}
			i = end
			continue
		}
		fl := &fields[i]
		if KindOf(fl.Sig.Code) != String {
			if dst[i], err = ReadValue(f.data, fl); err != nil {
				return err
			}
		}
		i++
	}
	return nil
}

// errShortDst is a dst shorter than the fields.
var errShortDst = errorString("reader: ReadNumbers: dst is shorter than the fields")

type errorString string

func (e errorString) Error() string { return string(e) }
