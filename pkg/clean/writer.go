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
	var badPID, valErr error
	end = 1
	scanErr = reader.Scan(data, func(f *reader.Field) bool {
		end = f.End()
		if valErr != nil {
			return true // walk on: a format error later still counts
		}
		if f.Label == convention.Folded {
			w.IsTotals = true // unless it has sys.pid (below)
			return true
		}
		// The default fields the rules look at, found by suffix (see
		// convention.DefaultField).
		which := convention.DefaultField(f.Label)
		switch which {
		case convention.PID, convention.UID, convention.Created, convention.Flock, convention.ID, convention.Totals:
		default:
			return true
		}
		v, err := reader.ReadValue(data, f)
		if err != nil {
			valErr = err
			return true
		}
		integer := v.Kind() == reader.Int || v.Kind() == reader.Uint
		switch which {
		case convention.PID:
			w.HasPID, badPID = integer, nil
			switch {
			case !integer:
				badPID = fmt.Errorf("%w: %s %q", ErrBadPID, f.Label, v.String())
			case v.Kind() == reader.Uint && v.Uint() > math.MaxInt64:
				w.PID = math.MaxInt64
				badPID = fmt.Errorf("%w: %s is %d", ErrBadPID, f.Label, v.Uint())
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
		return true
	})
	w.IsTotals = w.IsTotals && !w.HasPID && badPID == nil
	switch {
	case valErr != nil:
		return Writer{}, end, scanErr, valErr
	case badPID != nil:
		return w, end, scanErr, badPID
	}
	return w, end, scanErr, nil
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
