package mmstats

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestPython08ReadsHistograms: the reader loop of 0.8.0 walks a file
// with merge-ready histograms (buckets in the pad bytes of .count) and
// aggregation policies (metadata version 2) without error, and yields
// exactly the stats the Go reader reads: the same labels in the same
// order, the same values, no extra stat.
func TestPython08ReadsHistograms(t *testing.T) {
	var s struct {
		Lat   Timer     `mmstats:"lat"`
		Size  Histogram `mmstats:"size,unit=bytes,range=64:1048576,windows=none"`
		Hits  Counter   `mmstats:"hits,windows=10s"`
		Peak  Int32     `mmstats:"peak,aggr=max"`
		Last  Float64   `mmstats:"last,aggr=latest"`
		Name  String    `mmstats:"name,size=16"`
		After Uint64    `mmstats:"after"`
	}
	f, err := New(&s, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	for i := range 1000 {
		s.Lat.Observe(time.Duration(i) * time.Microsecond)
		s.Size.Observe(float64(i * 100))
	}
	s.Hits.Add(7)
	s.Peak.Set(-3)
	s.Last.Set(1.5)
	s.Name.Set("hello")
	s.After.Set(1 << 40)
	f.Close()

	want, err := reader.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	out := testutil.Python08Stats(t, f.Path())
	var got [][2]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != len(want) {
		t.Fatalf("0.8.0 yields %d stats, the Go reader %d:\n%s", len(got), len(want), out)
	}
	for i, w := range want {
		label, value := got[i][0], got[i][1]
		ok := label == w.Label
		switch v := value.(type) {
		case float64:
			ok = ok && (v == w.Value.Float() || math.Abs(v-w.Value.Float()) <= 1e-9*math.Abs(v))
		case string:
			ok = ok && v == w.Value.Str()
		case bool:
			ok = ok && v == w.Value.Bool()
		default:
			ok = false
		}
		if !ok {
			t.Errorf("stat %d: 0.8.0 reads %v = %v, the Go reader %s = %v", i, label, value, w.Label, w.Value)
		}
	}
	if got[len(got)-1][0] != "sys.flock" {
		t.Errorf("0.8.0 did not reach the last field: %v", got[len(got)-1])
	}
}
