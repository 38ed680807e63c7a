package mmstats

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/reader"
)

// TestAggregationDefaults checks the policy every field type writes by
// default, and the ways to choose another.
func TestAggregationDefaults(t *testing.T) {
	var s struct {
		Counter Counter       `mmstats:"counter,windows=10s"`
		U64     Uint64        `mmstats:"u64"`
		I32     Int32         `mmstats:"i32"`
		F64     Float64       `mmstats:"f64"`
		Bool    Bool          `mmstats:"bool"`
		Avg     Average       `mmstats:"avg"`
		Moving  MovingAverage `mmstats:"moving"`
		Str     String        `mmstats:"str"`
		Static  StaticUint64  `mmstats:"static"`
		Stamp   Float64       `mmstats:"stamp,kind=timestamp"`
		Peak    Int32         `mmstats:"peak,aggr=max"`
		Low     Float32       `mmstats:"low,aggr=min"`
		Last    Float64       `mmstats:"last,aggr=latest"`
		Mean    Uint32        `mmstats:"mean,aggr=avg"`
		Own     Uint64        `mmstats:"own,aggr=none"`
		Lat     Timer         `mmstats:"lat,windows=10s"`
	}
	f, err := New(&s, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	var opt Int16
	if err := f.Add("opt", &opt, WithAggregation(Max)); err != nil {
		t.Fatal(err)
	}
	want := map[string]Aggregation{
		"counter": Sum, "counter.rate10s": Sum, "u64": Sum, "i32": Sum, "f64": Sum, "bool": Sum,
		"avg": Avg, "moving": Avg, "str": None, "static": None, "stamp": Latest,
		"peak": Max, "low": Min, "last": Latest, "mean": Avg, "own": None, "opt": Max,
		"lat": reader.AggrWeightedAvg, "lat.count": Sum, "lat.sum": Sum, "lat.min": Min, "lat.max": Max,
		"lat.p50": reader.AggrQuantile, "lat.p999": reader.AggrQuantile,
		"lat.avg10s": reader.AggrWeightedAvg, "lat.rate10s": Sum,
		"sys.pid": None, "sys.tid": None, "sys.uid": None, "sys.gid": None,
		"org.golang.version": None, "sys.flock": None, "sys.created": Latest,
	}
	meta := metaOf(t, f.Path())
	for label, a := range want {
		if got := meta[label].Aggregation; got != a {
			t.Errorf("%s: %q, want %q", label, got, a)
		}
	}
	for label, m := range meta {
		if m.Aggregation == reader.AggrDefault {
			t.Errorf("%s has no explicit policy", label)
		}
	}

	for name, add := range map[string]func(*File) error{
		"WithAggregation on a Histogram": func(f *File) error { return f.Add("h", &Histogram{}, WithAggregation(Max)) },
		"WithAggregation on a Timer":     func(f *File) error { return f.Add("t", &Timer{}, WithAggregation(Sum)) },
		"quantile on a gauge":            func(f *File) error { return f.Add("q", &Float64{}, WithAggregation(reader.AggrQuantile)) },
		"an unknown policy":              func(f *File) error { return f.Add("u", &Float64{}, WithAggregation(42)) },
		"aggr=median": func(f *File) error {
			return f.Register(&struct {
				X Float64 `mmstats:"x,aggr=median"`
			}{})
		},
	} {
		if err := add(f); !errors.Is(err, ErrModel) {
			t.Errorf("%s: %v, want ErrModel", name, err)
		}
	}
}

// TestHistogramFileBytes measures what a histogram takes in the file at
// the default range: the README quotes it, and the target is 16 KiB.
func TestHistogramFileBytes(t *testing.T) {
	for _, c := range []struct {
		name  string
		field Field
		max   int
	}{
		{"Timer, default windows", &Timer{}, 16 << 10},
		{"Histogram, no windows", &Histogram{Windows: []time.Duration{}}, 16 << 10},
	} {
		f, err := New(nil, Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Add("web.stats.timers.request", c.field); err != nil {
			t.Fatal(err)
		}
		f.Close()
		rf, err := reader.Open(f.Path())
		if err != nil {
			t.Fatal(err)
		}
		first, last, n := -1, 0, 0
		for _, fl := range rf.Fields() {
			if strings.HasPrefix(fl.Label, "web.stats.timers.request") {
				if first < 0 {
					first = fl.Offset
				}
				last = fl.End()
				n++
			}
		}
		rf.Close()
		f.Remove()
		bytes := last - first
		t.Logf("%s: %d stats, %d bytes in the file (%.1f KiB)", c.name, n, bytes, float64(bytes)/1024)
		if bytes > c.max {
			t.Errorf("%s: %d bytes, more than %d", c.name, bytes, c.max)
		}
	}
}
