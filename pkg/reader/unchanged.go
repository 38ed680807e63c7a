package reader

import "github.com/mmstats/mmstats/internal/v1"

// Unchanged reports whether Update would find nothing new in f, with
// two loads: f is mapped, and its writer has neither appended a field
// nor replaced the file by a larger copy. Update of such a file returns
// (false, nil) and changes nothing: a poller of many files may skip it.
func (f *File) Unchanged() bool {
	return f.data != nil && f.mapped && f.unchanged()
}

// unchangedAt reports whether the mapping data, whose layout ends at
// end, is as Unchanged wants it: not superseded, no field appended. The
// caller catches a fault.
func unchangedAt(data []byte, end int) bool {
	return data != nil && end+2 <= len(data) &&
		loadByte(data, end) == 0 && loadByte(data, end+1) == 0 && loadByte(data, 0) != v1.Superseded
}
