package reader_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestReadCoarseHistogramIsConsistent reads a histogram summed at
// schema 0 while goroutines observe values into it (as
// TestReadHistogramIsConsistent): every read's count is its buckets'
// total, and the counts never go back. Read again into the same
// CoarseHistogram, it does not allocate.
func TestReadCoarseHistogramIsConsistent(t *testing.T) {
	r, i, stop := observedHistogram(t, 2)
	var c reader.CoarseHistogram
	var last uint64
	var lastCounts []uint64
	deadline := time.Now().Add(time.Minute)
	busy := 0
	for n := 0; n < 2000 || last == 0 && time.Now().Before(deadline); n++ {
		if err := r.ReadCoarseHistogram(i, 0, &c); errors.Is(err, reader.ErrBusy) {
			// The writer published all through the reader's tries, as
			// it may on a loaded machine: no copy, never a torn one.
			busy++
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if c.Count != c.Total() || c.Count < last {
			t.Fatalf("count %d, buckets %d, previous count %d", c.Count, c.Total(), last)
		}
		for k := range lastCounts {
			if c.Counts[k] < lastCounts[k] {
				t.Fatalf("bucket %d went back: %d after %d", c.CoarseLo+k, c.Counts[k], lastCounts[k])
			}
		}
		last, lastCounts = c.Count, append(lastCounts[:0], c.Counts...)
	}
	stop()
	if busy > 0 {
		t.Logf("%d of the reads were busy (ErrBusy)", busy)
	}
	if last == 0 {
		t.Error("no value published")
	}
	if n := testing.AllocsPerRun(100, func() { r.ReadCoarseHistogram(i, 0, &c) }); n != 0 {
		t.Errorf("ReadCoarseHistogram allocates %v times a read", n)
	}
}

// TestReadCoarseHistogramSources: a writer's Timer read from a mapping
// and from a Snapshot's copy sums as its ReadHistogram; a mapped file
// truncated under the reader gives ErrFault, caught.
func TestReadCoarseHistogramSources(t *testing.T) {
	var s struct {
		Lat mmstats.Timer `mmstats:"lat"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		s.Lat.Observe(time.Duration(rng.ExpFloat64() * 1e7))
	}
	f.Refresh() // the count and sum published
	r, err := reader.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var snap reader.Snapshot
	defer snap.Close()
	sf, err := snap.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	i := indexOf(t, r, "lat.count")
	var h reader.Histogram
	if err := r.ReadHistogram(i, &h); err != nil || h.Count != 5000 {
		t.Fatalf("ReadHistogram: %v, count %d", err, h.Count)
	}
	for cs := range 8 {
		var want, got, snapped reader.CoarseHistogram
		h.Coarse(cs, &want)
		if err := r.ReadCoarseHistogram(i, cs, &got); err != nil {
			t.Fatal(err)
		}
		if err := sf.ReadCoarseHistogram(i, cs, &snapped); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*reader.CoarseHistogram{&got, &snapped} {
			if c.CoarseLo != want.CoarseLo || c.Count != 5000 || c.Total() != 5000 || c.Sum != h.Sum || len(c.Counts) != len(want.Counts) {
				t.Fatalf("schema %d: %+v, want %+v", cs, c, want)
			}
			for k := range want.Counts {
				if c.Counts[k] != want.Counts[k] {
					t.Fatalf("schema %d: bucket %d: %d, want %d", cs, want.CoarseLo+k, c.Counts[k], want.Counts[k])
				}
			}
		}
	}
	// A copy of the file (its writer would fault on its own), read
	// from a mapping and truncated.
	data, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "copy.mmstats")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := reader.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var c reader.CoarseHistogram
	if err := rc.ReadCoarseHistogram(i, 0, &c); err != nil || c.Count != 5000 {
		t.Fatalf("the copy: %v, count %d", err, c.Count)
	}
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	if err := rc.ReadCoarseHistogram(i, 0, &c); !errors.Is(err, reader.ErrFault) {
		t.Errorf("ReadCoarseHistogram on a truncated mapping: %v, want ErrFault", err)
	}
}

// BenchmarkReadCoarseHistogram: a Timer's 1,920 counts read summed at
// schema 0, against ReadHistogram's copy of them (those between the
// group's .min and .max loaded, the others cleared), from one mapped file
// (in the cache: the cost of the loads alone), and merged as a poller's
// percentile merges them.
func BenchmarkReadCoarseHistogram(b *testing.B) {
	var s struct {
		Lat mmstats.Timer `mmstats:"lat"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Remove()
	for k := range 1000 {
		s.Lat.Observe(time.Duration(k) * time.Millisecond)
	}
	f.Refresh()
	r, err := reader.Open(f.Path())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	i, _, _ := r.Lookup("lat.count")
	b.Run("coarse", func(b *testing.B) {
		var c reader.CoarseHistogram
		for b.Loop() {
			if err := r.ReadCoarseHistogram(i, 0, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("histogram", func(b *testing.B) {
		var h reader.Histogram
		for b.Loop() {
			if err := r.ReadHistogram(i, &h); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What a poller's percentile costs a file: its histogram read, and
	// merged into the files' (whose counts stay in the cache).
	b.Run("histogram+merge", func(b *testing.B) {
		var h, m reader.Histogram
		for b.Loop() {
			if err := r.ReadHistogram(i, &h); err != nil {
				b.Fatal(err)
			}
			if err := m.Merge(&h); err != nil {
				b.Fatal(err)
			}
		}
	})
}
