package reader_test

import (
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestReadNumbers: ReadNumbers gives every numeric field the value that
// Stats gives it (a timer's group too), leaves the strings alone, and
// does not allocate.
func TestReadNumbers(t *testing.T) {
	var s struct {
		Hits mmstats.Counter `mmstats:"hits"`
		Temp mmstats.Float64 `mmstats:"temp"`
		Path mmstats.String  `mmstats:"path,size=32"`
		Lat  mmstats.Timer   `mmstats:"lat"`
	}
	w := newWriter(t, &s)
	s.Hits.Add(42)
	s.Temp.Set(1.5)
	s.Path.Set("/index.html")
	for i := range 100 {
		s.Lat.Observe(time.Duration(i+1) * time.Millisecond)
	}
	r, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stats, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]reader.Value, r.Len())
	if err := r.ReadNumbers(dst); err != nil {
		t.Fatal(err)
	}
	if len(stats) != r.Len() {
		t.Fatalf("%d stats for %d fields", len(stats), r.Len())
	}
	numbers := 0
	for i, st := range stats {
		switch {
		case st.Value.Kind() == reader.String:
			if dst[i] != (reader.Value{}) {
				t.Errorf("%s: a string was read: %v", st.Label, dst[i])
			}
		case dst[i] != st.Value:
			t.Errorf("%s: %v, Stats says %v", st.Label, dst[i], st.Value)
		default:
			numbers++
		}
	}
	if numbers < 10 {
		t.Errorf("only %d numbers", numbers)
	}
	// (Under the race detector, which drops sync.Pool items at random,
	// allocations cannot be counted.)
	if n := testing.AllocsPerRun(100, func() { r.ReadNumbers(dst) }); n != 0 && !numbersRace {
		t.Errorf("ReadNumbers: %v allocations", n)
	}
	if err := r.ReadNumbers(dst[:1]); err == nil {
		t.Error("a short dst: no error")
	}
}
