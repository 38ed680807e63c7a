package mmstats

import (
	"sync/atomic"
	"testing"
	"time"
)

// benchFile creates a file with one field of each hot-path type.
func benchFile(b *testing.B) (*File, *benchModel) {
	b.Helper()
	m := &benchModel{}
	f, err := New(m, Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Remove() })
	return f, m
}

type benchModel struct {
	Anchor  Counter   `mmstats:"anchor"` // its word is the raw-atomic anchor
	Counter Counter   `mmstats:"counter"`
	Double  Float64   `mmstats:"double"`
	Bool    Bool      `mmstats:"bool"`
	Int     Int32     `mmstats:"int"`
	String  String    `mmstats:"string,size=32"`
	Timer   Timer     `mmstats:"timer"`
	Average Average   `mmstats:"average"`
	Hist    Histogram `mmstats:"hist"`
}

// BenchmarkHotPath measures each hot-path operation next to the anchor: a
// raw atomic.AddUint64 on a word of the same mapped page. Compare ns/op
// of each sub-benchmark with the anchor's from the same run.
func BenchmarkHotPath(b *testing.B) {
	_, m := benchFile(b)
	anchor := m.Anchor.addr.Load()
	cases := []struct {
		name string
		op   func(i int)
	}{
		{"anchor_raw_atomic_add", func(int) { atomic.AddUint64(anchor, 1) }},
		{"counter_incr", func(int) { m.Counter.Inc() }},
		{"counter_add", func(i int) { m.Counter.Add(uint64(i)) }},
		{"double_set", func(i int) { m.Double.Set(float64(i)) }},
		{"bool_set", func(i int) { m.Bool.Set(i&1 == 0) }},
		{"int_set", func(i int) { m.Int.Set(int32(i)) }},
		{"string_set", func(i int) { m.String.Set(benchStrings[i&3]) }},
		{"timer_observe", func(i int) { m.Timer.Observe(time.Duration(i)) }},
		{"average_add", func(i int) { m.Average.Observe(float64(i)) }},
		{"histogram_observe", func(i int) { m.Hist.Observe(float64(i&1023) * 1e-4) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c.op(i)
			}
		})
		b.Run(c.name+"_parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					c.op(i)
					i++
				}
			})
		})
	}
}

var benchStrings = [4]string{"idle", "serving /index", "draining", "serving /status"}

// TestHotPathDoesNotAllocate checks the no-allocation promise of every
// hot-path operation, bound to a file.
func TestHotPathDoesNotAllocate(t *testing.T) {
	m := &benchModel{}
	f, err := New(m, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	ops := map[string]func(){
		"Counter.Inc":       func() { m.Counter.Inc() },
		"Counter.Add":       func() { m.Counter.Add(3) },
		"Double.Set":        func() { m.Double.Set(1.5) },
		"Double.Add":        func() { m.Double.Add(1.5) },
		"Bool.Set":          func() { m.Bool.Set(true) },
		"Int.Set":           func() { m.Int.Set(-3) },
		"String.Set":        func() { m.String.Set("serving /index") },
		"Timer.Observe":     func() { m.Timer.Observe(time.Millisecond) },
		"Timer.Start":       func() { m.Timer.Start().Stop() },
		"Average.Add":       func() { m.Average.Observe(2) },
		"Histogram.Observe": func() { m.Hist.Observe(0.25) },
	}
	for name, op := range ops {
		if n := testing.AllocsPerRun(1000, op); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}
