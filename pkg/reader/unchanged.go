package reader

import (
	"runtime/debug"

	"github.com/mmstats/mmstats/internal/v1"
)

// Unchanged reports whether Update would find nothing new in f, with
// two loads: f is mapped, and its writer has neither appended a field
// nor replaced the file by a larger copy. Update of such a file returns
// (false, nil) and changes nothing: a poller of many files may skip it.
func (f *File) Unchanged() bool {
	return f.data != nil && f.mapped && f.unchanged()
}

// Watch is what Unchanged looks at in a mapped File, for UnchangedEach
// to check many files in one pass without going through their Files. It
// is valid as long as the File's Words are (see Words).
type Watch struct {
	data []byte
	end  int
}

// Watch returns f's Watch, and false when f is not mapped.
func (f *File) Watch() (Watch, bool) {
	if f.data == nil || !f.mapped || f.snapOn() {
		return Watch{}, false
	}
	return Watch{f.data, f.ix().end}, true
}

// UnchangedEach returns the position in ws of the first file that is not
// Unchanged (or whose Watch is the zero Watch), or len(ws) when all are.
func UnchangedEach(ws []Watch) (k int) {
	var err error
	defer catchFault(&err, debug.SetPanicOnFault(true)) // k: the file that faulted
	for k = range ws {
		if !unchangedAt(ws[k].data, ws[k].end) {
			return k
		}
	}
	return len(ws)
}

// unchangedAt reports whether the mapping data, whose layout ends at
// end, is as Unchanged wants it: not superseded, no field appended. The
// caller catches a fault.
func unchangedAt(data []byte, end int) bool {
	return data != nil && end+2 <= len(data) &&
		loadByte(data, end) == 0 && loadByte(data, end+1) == 0 && loadByte(data, 0) != v1.Superseded
}
