package reader_test

import (
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestNumericValuesDoNotAllocate: reading a number does not allocate (a
// call through a binary.ByteOrder interface made every read allocate
// its 8 bytes).
func TestNumericValuesDoNotAllocate(t *testing.T) {
	var s struct {
		Hits mmstats.Counter `mmstats:"hits"`
		Temp mmstats.Float32 `mmstats:"temp"`
		Tiny mmstats.Int16   `mmstats:"tiny"`
	}
	w := newWriter(t, &s)
	r, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	idx := []int{0, 1, 2}
	dst := make([]reader.Value, len(idx))
	r.Values(idx, dst)
	if n := testing.AllocsPerRun(100, func() { r.Values(idx, dst) }); n != 0 {
		t.Errorf("Values allocates %v times", n)
	}
}
