package clean

import (
	"errors"
	"fmt"
	"math"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/pkg/reader"
)

// maxPID is the largest value a pid_t (int32) holds.
const maxPID = math.MaxInt32

// firstRead is how much of a file is read at first; mmstats files are a
// page or a few. maxRead bounds how far a file is read to find the end of
// its fields.
const (
	firstRead = 64 << 10
	maxRead   = 64 << 20
)

// validPID reports whether pid may be given to kill: a positive pid_t.
func validPID(pid int64) bool { return pid > 0 && pid <= maxPID }

// scanWriter walks the fields of a v1 file, keeping none, and reads the
// default fields; when a label occurs twice, the last one counts. end is
// the offset just past the last field; scanErr is the format error that
// stopped the walk; err is a bad value (ErrBadPID) of a valid file.
func scanWriter(data []byte) (w Writer, end int, scanErr, err error) {
	var ws writerScan
	end = 1
	scanErr = reader.Scan(data, func(f *reader.Field) bool {
		end = f.End()
		if wantedField(f.Label) {
			ws.add(f.Label, func() (reader.Value, error) { return reader.ReadValue(data, f) })
		}
		return true
	})
	w, err = ws.result()
	return w, end, scanErr, err
}

// wantedField reports whether the rules look at the field labelled
// label: the default fields found by suffix (see convention.DefaultField),
// and sys.folded, which marks a totals file.
func wantedField(label string) bool {
	if label == convention.Folded {
		return true
	}
	switch convention.DefaultField(label) {
	case convention.PID, convention.UID, convention.Created, convention.Flock, convention.ID, convention.Totals:
		return true
	}
	return false
}

// writerScan gathers what the fields of a file say about its writer, fed
// the wanted fields (wantedField) in file order.
type writerScan struct {
	w              Writer
	badPID, valErr error
}

// add takes the field labelled label, whose value read returns.
func (s *writerScan) add(label string, read func() (reader.Value, error)) {
	s.addAs(fieldOf(label), label, read)
}

// fieldOf returns what the rules take the field labelled label for:
// convention.Folded, or its convention.DefaultField.
func fieldOf(label string) string {
	if label == convention.Folded {
		return label
	}
	return convention.DefaultField(label)
}

// addAs is add for a field that fieldOf(label) says is which.
func (s *writerScan) addAs(which, label string, read func() (reader.Value, error)) {
	if s.valErr != nil {
		return // a format error later still counts: the walk goes on
	}
	w := &s.w
	if which == convention.Folded {
		w.IsTotals = true // unless it has sys.pid (result)
		return
	}
	v, err := read()
	if err != nil {
		s.valErr = err
		return
	}
	integer := v.Kind() == reader.Int || v.Kind() == reader.Uint
	switch which {
	case convention.PID:
		w.HasPID, s.badPID = integer, nil
		switch {
		case !integer:
			s.badPID = fmt.Errorf("%w: %s %q", ErrBadPID, label, v.String())
		case v.Kind() == reader.Uint && v.Uint() > math.MaxInt64:
			w.PID = math.MaxInt64
			s.badPID = fmt.Errorf("%w: %s is %d", ErrBadPID, label, v.Uint())
		default:
			w.PID = v.Int()
		}
	case convention.UID:
		w.HasUID, w.UID = integer, v.Uint()
	case convention.Created:
		c := v.Float()
		w.HasCreated = (integer || v.Kind() == reader.Float) && c > 0 && !math.IsInf(c, 0)
		w.Created = c
		if !w.HasCreated {
			w.Created = 0
		}
	case convention.Flock:
		w.Flock = v.Kind() == reader.Bool && v.Bool()
	case convention.ID:
		w.ID = 0
		if v.Kind() == reader.Uint {
			w.ID = v.Uint()
		}
	case convention.Totals:
		w.Totals = v.Str()
	}
}

// result returns the writer, or the error that makes the file invalid.
func (s *writerScan) result() (Writer, error) {
	w := s.w
	w.IsTotals = w.IsTotals && !w.HasPID && s.badPID == nil
	switch {
	case s.valErr != nil:
		return Writer{}, s.valErr
	case s.badPID != nil:
		return w, s.badPID
	}
	return w, nil
}

// inconclusive reports whether walking a prefix of a file may have
// stopped short of the end of its fields: the fields ran to the end of
// the data (end), or past it (scanErr is ErrTruncated).
func inconclusive(data []byte, end int, scanErr error) bool {
	if scanErr != nil {
		return errors.Is(scanErr, reader.ErrTruncated)
	}
	return end >= len(data)
}
