package reader_test

import (
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

// A zero File (never opened, as ReadFDInto takes it) is a closed one:
// every method answers, none panics. Its index is shared by no File.
func TestZeroFile(t *testing.T) {
	var f reader.File
	if f.Len() != 0 || f.IsCopy() || f.Unchanged() || f.Layout() != nil && len(f.Layout().Fields) != 0 {
		t.Error("a zero File has fields")
	}
	f.SharedLayout()
	f.Fields()
	f.ScanFields(func(int, *reader.Field) bool { return true })
	f.ScanStats(func(*reader.Stat) bool { return true })
	if _, err := f.Value(0); err == nil {
		t.Error("Value of a zero File: no error")
	}
	if _, _, ok := f.Lookup("a"); ok {
		t.Error("Lookup found a field in a zero File")
	}
	if err := f.Values([]int{0}, make([]reader.Value, 1)); err == nil {
		t.Error("Values of a zero File: no error")
	}
	f.Stats()
	if _, err := f.Update(); err == nil {
		t.Error("Update of a zero File: no error")
	}
	var h reader.Histogram
	f.ReadHistogram(0, &h)
	var c reader.CoarseHistogram
	f.ReadCoarseHistogram(0, 0, &c)
	f.ReadNumbers(make([]reader.Value, 1))
	f.Words()
	f.LoadWords([]int{0}, make([]uint64, 1))
	f.Forget()
	f.Close()
	if f.Len() != 0 {
		t.Error("a zero File closed has fields")
	}
}
