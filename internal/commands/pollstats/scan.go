package pollstats

import "github.com/mmstats/mmstats/pkg/reader"

// scanFields is reader.File.ScanFields, reading the fields of a file of
// a shared layout where the layout holds them: ScanFields copies each
// field for fn, a copy that escapes to the heap, which at start over
// 100,000 files of fifty fields each made half a gigabyte of garbage
// (identify alone), and the peak of pollstats' memory. fn must not
// modify the field, nor keep it.
func scanFields(f *reader.File, fn func(i int, fl *reader.Field) bool) {
	if l := f.SharedLayout(); l != nil {
		for i := range min(len(l.Fields), f.Len()) {
			if !fn(i, &l.Fields[i]) {
				return
			}
		}
		return
	}
	f.ScanFields(fn)
}
