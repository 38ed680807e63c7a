package clean

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// The default fields the rules look at, matched as label suffixes (any
// label prefix is allowed, as cleanstats 0.8.0 does for sys.pid).
const (
	labelPID     = "sys.pid"
	labelUID     = "sys.uid"
	labelCreated = "sys.created"
	labelFlock   = "sys.flock"
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

// parseWriter parses a v1 file's bytes and returns what it says about its
// writer. A file that is not valid v1 gives the reader's error; a sys.pid
// that is not an integer gives ErrBadPID.
func parseWriter(data []byte) (Writer, error) {
	layout, err := reader.Parse(data)
	if err != nil {
		return Writer{}, err
	}
	return writerOf(data, layout)
}

// writerOf reads the default fields of a parsed file. When a label occurs
// twice, the last one counts.
func writerOf(data []byte, layout *reader.Layout) (Writer, error) {
	var w Writer
	var badPID error
	for i := range layout.Fields {
		f := &layout.Fields[i]
		var which string
		for _, l := range [...]string{labelPID, labelUID, labelCreated, labelFlock} {
			if strings.HasSuffix(f.Label, l) {
				which = l
				break
			}
		}
		if which == "" {
			continue
		}
		v, err := reader.ReadValue(data, f)
		if err != nil {
			return Writer{}, err
		}
		integer := v.Kind() == reader.Int || v.Kind() == reader.Uint
		switch which {
		case labelPID:
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
		case labelUID:
			w.HasUID, w.UID = integer, v.Uint()
		case labelCreated:
			c := v.Float()
			w.HasCreated = (integer || v.Kind() == reader.Float) && c > 0 && !math.IsInf(c, 0)
			w.Created = c
			if !w.HasCreated {
				w.Created = 0
			}
		case labelFlock:
			w.Flock = v.Kind() == reader.Bool && v.Bool()
		}
	}
	if badPID != nil {
		return w, badPID
	}
	return w, nil
}

// inconclusive reports whether parsing a prefix of a file may have stopped
// short of the end of its fields: the fields ran to the end of the data.
func inconclusive(data []byte, layout *reader.Layout, err error) bool {
	if err != nil {
		return errors.Is(err, reader.ErrTruncated)
	}
	return layout.End >= len(data)
}
