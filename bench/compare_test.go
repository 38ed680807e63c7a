package bench

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// mappedWord maps one page of a file and returns its first word: the
// anchor every ratio is measured against.
func mappedWord(b *testing.B) *uint64 {
	b.Helper()
	path := filepath.Join(b.TempDir(), "anchor")
	if err := os.WriteFile(path, make([]byte, os.Getpagesize()), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Munmap(mem) })
	return (*uint64)(unsafe.Pointer(&mem[0]))
}

type model struct {
	Counter mmstats.Counter   `mmstats:"counter"`
	Double  mmstats.Float64   `mmstats:"double"`
	String  mmstats.String    `mmstats:"string,size=32"`
	Timer   mmstats.Timer     `mmstats:"timer"`
	Hist    mmstats.Histogram `mmstats:"hist"`
}

func newModel(b *testing.B) *model {
	b.Helper()
	m := &model{}
	f, err := mmstats.New(m, mmstats.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Remove() })
	return m
}

var strs = [4]string{"idle", "serving /index", "draining", "serving /status"}

// BenchmarkCompare runs each operation single-threaded and with
// RunParallel. Names are op/impl: the ratios of scripts/bench divide an
// implementation's ns/op by the anchor's of the same run.
func BenchmarkCompare(b *testing.B) {
	word := mappedWord(b)
	m := newModel(b)
	reg := prometheus.NewRegistry()
	pc := prometheus.NewCounter(prometheus.CounterOpts{Name: "c"})
	pg := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})
	ph := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Buckets: prometheus.DefBuckets})
	reg.MustRegister(pc, pg, ph)
	ops := []struct {
		name string
		op   func(i int)
	}{
		{"anchor/raw_atomic_add", func(int) { atomic.AddUint64(word, 1) }},
		{"counter_inc/mmstats", func(int) { m.Counter.Inc() }},
		{"counter_inc/prometheus", func(int) { pc.Inc() }},
		{"double_set/mmstats", func(i int) { m.Double.Set(float64(i)) }},
		{"double_set/prometheus_gauge", func(i int) { pg.Set(float64(i)) }},
		{"string_set/mmstats", func(i int) { m.String.Set(strs[i&3]) }},
		{"observe/mmstats_histogram", func(i int) { m.Hist.Observe(float64(i&1023) * 1e-4) }},
		{"observe/mmstats_timer", func(i int) { m.Timer.Observe(time.Duration(i&1023) * 100 * time.Microsecond) }},
		{"observe/prometheus_histogram", func(i int) { ph.Observe(float64(i&1023) * 1e-4) }},
	}
	for _, o := range ops {
		b.Run(o.name+"/single", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				o.op(i)
			}
		})
		b.Run(o.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					o.op(i)
					i++
				}
			})
		})
	}
}
