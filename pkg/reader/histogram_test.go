package reader_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// indexOf returns the index of the field labelled label.
func indexOf(t *testing.T, f *reader.File, label string) int {
	t.Helper()
	for i, fl := range f.Fields() {
		if fl.Label == label {
			return i
		}
	}
	t.Fatalf("no field %q", label)
	return -1
}

// TestReadHistogramAgreesWithWriter: the buckets a reader gets are the
// writer's, from any field of the group, and the percentiles it computes
// from them are the ones the writer published.
func TestReadHistogramAgreesWithWriter(t *testing.T) {
	var s struct {
		Lat  mmstats.Timer     `mmstats:"lat"`
		Size mmstats.Histogram `mmstats:"size,unit=bytes,windows=none"`
		Hits mmstats.Counter   `mmstats:"hits"`
	}
	w := newWriter(t, &s)
	rng := rand.New(rand.NewPCG(7, 8))
	under := uint64(1)
	for range 100_000 {
		s.Lat.Observe(time.Duration(math.Exp(math.Log(2e6) + rng.NormFloat64())))
		size := math.Floor(math.Exp(7 + 2*rng.NormFloat64()))
		s.Size.Observe(size)
		if size <= 1 {
			under++
		}
	}
	s.Size.Observe(0)     // underflow
	s.Size.Observe(1e300) // overflow
	w.Refresh()
	r, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stats := map[string]float64{}
	st, _ := r.Stats()
	for _, s := range st {
		stats[s.Label] = s.Value.Float()
	}
	for _, name := range []string{"lat", "size"} {
		var h reader.Histogram
		for _, part := range []string{"", ".count", ".p99", ".max"} {
			if err := r.ReadHistogram(indexOf(t, r, name+part), &h); err != nil {
				t.Fatalf("%s%s: %v", name, part, err)
			}
			if h.Count != uint64(stats[name+".count"]) || h.Total() != h.Count || h.Schema != 6 || len(h.Counts) != 1920 {
				t.Fatalf("%s: count %d, total %d, schema %d, %d buckets", name, h.Count, h.Total(), h.Schema, len(h.Counts))
			}
		}
		if h.Min != stats[name+".min"] || h.Max != stats[name+".max"] || h.Sum != stats[name+".sum"] {
			t.Errorf("%s: min %v max %v sum %v, stats %v %v %v", name, h.Min, h.Max, h.Sum, stats[name+".min"], stats[name+".max"], stats[name+".sum"])
		}
		for _, q := range []struct {
			q float64
			s string
		}{{0.5, ".p50"}, {0.9, ".p90"}, {0.99, ".p99"}, {0.999, ".p999"}} {
			if got := h.Quantile(q.q); got != stats[name+q.s] {
				t.Errorf("%s: Quantile(%v) = %v, published %v", name, q.q, got, stats[name+q.s])
			}
		}
	}
	var h reader.Histogram
	// Sizes of 0 and 1 byte are at or below the window (1 byte to 1 GiB).
	if err := r.ReadHistogram(indexOf(t, r, "size"), &h); err != nil || h.Underflow != under || h.Overflow != 1 || h.Lo != 1 {
		t.Errorf("size: %v, underflow %d, overflow %d, lo %d", err, h.Underflow, h.Overflow, h.Lo)
	}
	if err := r.ReadHistogram(indexOf(t, r, "hits"), &h); !errors.Is(err, reader.ErrNoHistogram) {
		t.Errorf("a counter's histogram: %v", err)
	}
	// The pure reader agrees.
	l := r.Layout()
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	var p reader.Histogram
	if err := reader.ReadHistogram(data, l, indexOf(t, r, "lat.p50"), &p); err != nil || p.Count != uint64(stats["lat.count"]) {
		t.Errorf("ReadHistogram on bytes: %v, %+v", err, p.Count)
	}
}

// TestReadHistogramDoesNotAllocate: a poller reading a group's
// histogram every second into the same Histogram allocates nothing.
func TestReadHistogramDoesNotAllocate(t *testing.T) {
	var s struct {
		Lat mmstats.Timer `mmstats:"lat"`
	}
	w := newWriter(t, &s)
	s.Lat.Observe(time.Millisecond)
	w.Refresh()
	r, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	i := indexOf(t, r, "lat.p99")
	var h reader.Histogram
	if err := r.ReadHistogram(i, &h); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { r.ReadHistogram(i, &h) }); n != 0 {
		t.Errorf("ReadHistogram allocates %v times a read", n)
	}
	if n := testing.AllocsPerRun(100, func() { h.Quantile(0.99) }); n != 0 {
		t.Errorf("Quantile allocates %v times", n)
	}
}

// observedHistogram opens a file with one Histogram, lat, published
// every millisecond, into which two goroutines observe values (from
// random numbers of seed) until stop is called; i is the index of
// lat.count in the File r.
func observedHistogram(t *testing.T, seed uint64) (r *reader.File, i int, stop func()) {
	t.Helper()
	var s struct {
		Lat mmstats.Histogram `mmstats:"lat"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir(), RefreshInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Remove() })
	r, err = reader.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), seed))
			for {
				select {
				case <-done:
					return
				default:
					s.Lat.Observe(rng.ExpFloat64() * 1e3)
				}
			}
		}()
	}
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	t.Cleanup(stop)
	return r, indexOf(t, r, "lat.count"), stop
}

// TestReadHistogramIsConsistent reads a histogram while goroutines
// observe and the refresher publishes every millisecond: every snapshot
// has count == underflow + overflow + the buckets, and the count never
// goes back.
func TestReadHistogramIsConsistent(t *testing.T) {
	r, i, stop := observedHistogram(t, 1)
	var h reader.Histogram
	var last uint64
	// At least 2000 reads, and on until the refresher has published:
	// reads through a shared layout can all come before its first tick.
	deadline := time.Now().Add(time.Minute)
	busy := 0
	for n := 0; n < 2000 || last == 0 && time.Now().Before(deadline); n++ {
		if err := r.ReadHistogram(i, &h); errors.Is(err, reader.ErrBusy) {
			// The writer published all through the reader's tries, as
			// it may on a loaded machine: no copy, never a torn one.
			busy++
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if h.Count != h.Total() || h.Count < last {
			t.Fatalf("count %d, buckets %d, previous count %d", h.Count, h.Total(), last)
		}
		last = h.Count
	}
	stop()
	if busy > 0 {
		t.Logf("%d of the reads were busy (ErrBusy)", busy)
	}
	if last == 0 {
		t.Error("no value published")
	}
}

// TestHistogramMerge merges histograms of different windows and checks
// the quantiles against the pooled values.
func TestHistogramMerge(t *testing.T) {
	// hist builds the histogram of vals over the window [lo, lo+n).
	hist := func(vals []float64, lo, n int) *reader.Histogram {
		h := &reader.Histogram{Schema: 6, Lo: lo, Counts: make([]uint64, n), Min: math.Inf(1), Max: math.Inf(-1)}
		for _, v := range vals {
			h.Count++
			h.Sum += v
			h.Min, h.Max = math.Min(h.Min, v), math.Max(h.Max, v)
			switch i := v1.Bucket6(math.Float64bits(v)); {
			case i < lo:
				h.Underflow++
			case i >= lo+n:
				h.Overflow++
			default:
				h.Counts[i-lo]++
			}
		}
		return h
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var a, b []float64
	for range 10000 {
		a = append(a, 1+rng.Float64()*9)
		b = append(b, 100+rng.Float64()*900)
	}
	var m reader.Histogram
	if err := m.Merge(hist(a, 1, 300)); err != nil {
		t.Fatal(err)
	}
	if err := m.Merge(hist(b, 400, 300)); err != nil { // a window above, not overlapping
		t.Fatal(err)
	}
	if m.Lo != 1 || len(m.Counts) != 699 || m.Count != 20000 || m.Total() != 20000 || m.Min < 1 || m.Max > 1000 {
		t.Fatalf("merged: lo %d, %d buckets, count %d, total %d", m.Lo, len(m.Counts), m.Count, m.Total())
	}
	pooled := hist(append(append([]float64(nil), a...), b...), 1, 699)
	for _, q := range []float64{0.1, 0.5, 0.51, 0.9, 0.99} {
		if got, want := m.Quantile(q), pooled.Quantile(q); got != want {
			t.Errorf("merged Quantile(%v) = %v, pooled %v", q, got, want)
		}
	}
	// Merging an empty histogram changes nothing; merging into one copies.
	before := m.Quantile(0.5)
	if err := m.Merge(&reader.Histogram{Schema: 6}); err != nil || m.Quantile(0.5) != before || m.Min == 0 {
		t.Errorf("merging an empty histogram: %v, %v", err, m.Quantile(0.5))
	}
	var c reader.Histogram
	c.Merge(&m)
	if c.Quantile(0.9) != m.Quantile(0.9) || &c.Counts[0] == &m.Counts[0] {
		t.Error("merge into an empty histogram does not copy")
	}
	// Errors.
	if err := m.Merge(&reader.Histogram{Schema: 5, Counts: []uint64{1}}); !errors.Is(err, reader.ErrMerge) {
		t.Errorf("schema 5 into 6: %v", err)
	}
	if err := m.Merge(&reader.Histogram{Schema: 6, Lo: 1 << 20, Counts: []uint64{1}}); !errors.Is(err, reader.ErrMerge) {
		t.Errorf("windows far apart: %v", err)
	}
	before1, before2 := c.Counts[1], c.Counts[2]
	big := &reader.Histogram{Schema: 6, Lo: 1, Counts: []uint64{math.MaxUint64, 3, math.MaxUint64 - before2}}
	if err := c.Merge(big); !errors.Is(err, reader.ErrMerge) || c.Counts[0] != math.MaxUint64 {
		t.Errorf("counts past 2^64: %v, %d", err, c.Counts[0])
	}
	// The counts that did not go past 2^64 are added as ever.
	if c.Counts[1] != before1+3 || c.Counts[2] != math.MaxUint64 {
		t.Errorf("beside a count past 2^64: %d (want %d), %d (want the most)", c.Counts[1], before1+3, c.Counts[2])
	}
	m.Reset()
	if m.Total() != 0 || m.Quantile(0.5) != 0 || cap(m.Counts) == 0 {
		t.Errorf("Reset: %+v", m)
	}
	m.Schema = 6
	lo, hi := m.BucketBounds(64)
	if lo != math.Exp2(63.0/64) || hi != 2 {
		t.Errorf("BucketBounds(64) = %v, %v", lo, hi)
	}
}
