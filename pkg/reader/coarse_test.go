package reader

import (
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
)

// coarseOf is the reference of ReadCoarseHistogram: the counts of h
// summed bucket by bucket at schema cs, from the coarse bucket that
// holds h's first bucket to the one that holds its last.
func coarseOf(h *Histogram, cs int) (lo int, counts []uint64) {
	cs = min(cs, h.Schema)
	f := 1 << (h.Schema - cs)
	coarse := func(i int) int { // the coarse bucket of bucket i: (k-1)f < i <= kf
		k := i / f
		for k*f < i {
			k++
		}
		for (k-1)*f >= i {
			k--
		}
		return k
	}
	if len(h.Counts) == 0 {
		return coarse(h.Lo), nil
	}
	lo = coarse(h.Lo)
	counts = make([]uint64, coarse(h.Lo+len(h.Counts)-1)-lo+1)
	for k, n := range h.Counts {
		counts[coarse(h.Lo+k)-lo] += n
	}
	return lo, counts
}

// sameFloat reports whether a and b are the same number, NaN being the
// same as NaN (a crafted .sum can hold one).
func sameFloat(a, b float64) bool { return a == b || a != a && b != b }

// wholeCount reports whether h's count is its underflow, overflow and
// bucket counts added up, without wrapping past 2^64: always so for what
// the writer writes.
func wholeCount(h *Histogram) bool {
	total, carry := bits.Add64(h.Underflow, h.Overflow, 0)
	for _, n := range h.Counts {
		var c uint64
		total, c = bits.Add64(total, n, 0)
		carry |= c
	}
	return carry == 0 && total == h.Count
}

// checkCoarse checks c, read at schema cs, against h read by
// ReadHistogram from the same bytes.
func checkCoarse(t *testing.T, what string, h *Histogram, c *CoarseHistogram, cs int) {
	t.Helper()
	lo, counts := coarseOf(h, cs)
	if c.Schema != h.Schema || c.Lo != h.Lo || c.N != len(h.Counts) || c.CoarseSchema != min(cs, h.Schema) || c.CoarseLo != lo ||
		len(c.Counts) != len(counts) || c.Underflow != h.Underflow || c.Overflow != h.Overflow || c.Count != h.Count || !sameFloat(c.Sum, h.Sum) {
		t.Fatalf("%s, schema %d: %+v; want window %d %d %d, coarse lo %d, %d counts, %d %d %d %v",
			what, cs, c, h.Schema, h.Lo, len(h.Counts), lo, len(counts), h.Underflow, h.Overflow, h.Count, h.Sum)
	}
	if !wholeCount(h) {
		// A crafted group whose count is not its buckets' total (the
		// writer never writes one): ReadCoarseHistogram trusts the count
		// to skip the buckets outside .min and .max, so only the window
		// and the numbers above must agree with ReadHistogram.
		return
	}
	if len(counts) > 0 && !reflect.DeepEqual(c.Counts, counts) {
		t.Fatalf("%s, schema %d: counts %v, want %v", what, cs, c.Counts, counts)
	}
	if c.Total() != h.Total() {
		t.Fatalf("%s, schema %d: total %d, want %d", what, cs, c.Total(), h.Total())
	}
	var m CoarseHistogram
	h.Coarse(cs, &m)
	if m.Counts == nil {
		m.Counts = c.Counts[:0]
	}
	m.loaded = c.loaded
	read := *c
	if sameFloat(m.Sum, read.Sum) {
		m.Sum, read.Sum = 0, 0 // DeepEqual holds NaN unequal to itself
	}
	if !reflect.DeepEqual(&m, &read) {
		t.Fatalf("%s, schema %d: Histogram.Coarse %+v, read %+v", what, cs, m, *c)
	}
}

// TestReadCoarseHistogram: random groups at every writer schema, with
// windows on and off the coarse bounds, read at every coarse schema
// (and finer than the writer's) from bytes and from a mapped file, sum
// to what ReadHistogram's counts sum to.
func TestReadCoarseHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 9))
	dir := t.TempDir()
	for n := range 200 {
		s := n % (v1.MaxSchema + 1)
		d := v1.Desc{Schema: s, Lo: rng.IntN(2000) - 1000, N: 1 + rng.IntN(300)}
		if n%7 == 0 {
			d.N = 1
		}
		c := craft{d: d, under: rng.Uint64N(100), over: rng.Uint64N(100), counts: make([]uint64, d.N), min: 0.5, max: 9}
		for k := range c.counts {
			if rng.IntN(3) > 0 {
				c.counts[k] = rng.Uint64N(1 << 40)
			}
		}
		// Half the groups have their values between their .min and
		// .max, as a writer's are (only those coarse buckets are
		// loaded); of those, one in four has a count outside them
		// (a value observed while the writer published: all loaded).
		bounded, outlier := n%2 == 1, n%8 == 1
		var a, z int // the buckets of the min and the max
		if bounded {
			a = rng.IntN(d.N)
			z = a + rng.IntN(d.N-a)
			clear(c.counts[:a])
			clear(c.counts[z+1:])
			c.counts[a]++
			c.min, c.max = v1.BucketUpper(s, d.Lo+a-1)*(1+1e-9), v1.BucketUpper(s, d.Lo+z)
			if outlier {
				c.counts[rng.IntN(d.N)]++
			}
		}
		data := c.bytes()
		l, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "h.mmstats")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var h Histogram
		var cb, cf CoarseHistogram
		for cs := range v1.MaxSchema + 3 {
			for i := range l.Fields {
				if err := ReadHistogram(data, l, i, &h); err != nil {
					t.Fatal(err)
				}
				if err := ReadCoarseHistogram(data, l, i, cs, &cb); err != nil {
					t.Fatalf("%+v, field %d, schema %d: %v", d, i, cs, err)
				}
				checkCoarse(t, "bytes", &h, &cb, cs)
				if err := f.ReadCoarseHistogram(i, cs, &cf); err != nil {
					t.Fatalf("%+v, field %d, schema %d: %v", d, i, cs, err)
				}
				checkCoarse(t, "file", &h, &cf, cs)
				if f := 1 << (s - min(s, cs)); bounded && !outlier && c.max < math.MaxFloat64 && cf.loaded > z-a+1+4*f {
					t.Fatalf("%+v, schema %d: %d counts loaded for values in buckets %d to %d", d, cs, cf.loaded, d.Lo+a, d.Lo+z)
				}
			}
		}
		if err := f.ReadCoarseHistogram(0, -1, &cf); err == nil {
			t.Error("schema -1 accepted")
		}
		f.Close()
	}
}

// TestCoarseBetweenExtremes: a Timer's window (schema 6, 1,920
// buckets) with its values between 2^3.1 and 2^3.9 loads the coarse
// buckets of those values only, at every coarse schema; with one more
// count far outside (a value observed while the writer published, a
// crafted file), all, and sums it.
func TestCoarseBetweenExtremes(t *testing.T) {
	d := v1.Desc{Schema: 6, Lo: -1407, N: 1920}
	c := craft{d: d, counts: make([]uint64, d.N), min: v1.BucketUpper(6, 199) * (1 + 1e-9), max: v1.BucketUpper(6, 250), under: 3, over: 4}
	for i := 200; i <= 250; i++ {
		c.counts[i+1407] = uint64(i)
	}
	for _, outlier := range []bool{false, true} {
		if outlier {
			c.counts[100]++
		}
		data := c.bytes()
		l, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		var h Histogram
		if err := ReadHistogram(data, l, 1, &h); err != nil {
			t.Fatal(err)
		}
		for cs := range 7 {
			var ch CoarseHistogram
			if err := ReadCoarseHistogram(data, l, 1, cs, &ch); err != nil {
				t.Fatal(err)
			}
			checkCoarse(t, "bytes", &h, &ch, cs)
			f := 1 << (6 - cs)
			if most := 65 + 4*f; !outlier && ch.loaded > most || outlier && ch.loaded != d.N {
				t.Errorf("outlier %v, schema %d: %d counts loaded (without outlier, at most %d)", outlier, cs, ch.loaded, most)
			}
		}
	}
}

// TestHostileBucketsCoarse: the descriptors and pad bytes of
// TestHostileBuckets give ReadCoarseHistogram the error they give
// ReadHistogram, never a panic; so do a group without buckets and a
// field out of range.
func TestHostileBucketsCoarse(t *testing.T) {
	ok := v1.Desc{Schema: 6, Lo: 1, N: 3}
	for _, c := range []craft{
		{d: ok, desc: " "}, {d: v1.Desc{Schema: 9, Lo: 1, N: 3}}, {d: v1.Desc{Schema: 35, Lo: 1, N: 3}},
		{d: v1.Desc{Schema: 6, N: v1.MaxDescN}, code: "Q40x"}, {d: ok, code: "Q16x"}, {d: ok, code: "Q48x"},
		{d: ok, code: "d40x"}, {d: ok, code: "40xQ"}, {d: ok, wb: 1}, {d: ok, misalign: true},
		{d: v1.Desc{Schema: 6, Lo: v1.MinDescLo, N: 2}, counts: []uint64{1, 1}},
		{d: v1.Desc{Schema: 8, Lo: v1.MaxDescLo, N: 2}, counts: []uint64{1, 1}},
	} {
		data := c.bytes()
		l, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		compareCoarse(t, data, l)
	}
	data := append([]byte{Version1}, field("a", "Q", 0xff, u64(1)...)...)
	l, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var ch CoarseHistogram
	if err := ReadCoarseHistogram(data, l, 0, 0, &ch); !errors.Is(err, ErrNoHistogram) {
		t.Errorf("standalone field: %v", err)
	}
	if err := ReadCoarseHistogram(data, l, 1, 0, &ch); err == nil {
		t.Error("index out of range accepted")
	}
}

// compareCoarse checks that every field of l reads with
// ReadCoarseHistogram, at every schema, as with ReadHistogram: the same
// error, or the same counts summed.
func compareCoarse(t *testing.T, data []byte, l *Layout) {
	t.Helper()
	var h Histogram
	var c CoarseHistogram
	// Each read is given no time to wait for the group's sequence word
	// (the public calls give it maxStringWait): a crafted group whose
	// word stays odd then costs 64 tries, not 100 ms a read, which would
	// stall the fuzzer past its deadline.
	for i := range l.Fields {
		head, end, gerr := l.groupOf(i)
		herr := gerr
		if gerr == nil {
			var wait time.Duration
			herr = readHistogram(data, l, head, end, &h, &wait)
		}
		for cs := range v1.MaxSchema + 2 {
			cerr := gerr
			if gerr == nil {
				var wait time.Duration
				cerr = readCoarse(data, l, head, end, cs, &c, &wait)
			}
			if (herr == nil) != (cerr == nil) || herr != nil && herr.Error() != cerr.Error() {
				t.Fatalf("field %d, schema %d: ReadCoarseHistogram = %v, ReadHistogram = %v", i, cs, cerr, herr)
			}
			if herr == nil {
				checkCoarse(t, "bytes", &h, &c, cs)
			}
		}
	}
}

// FuzzReadCoarseHistogram: whatever the bytes, ReadCoarseHistogram does
// not panic, and fails or sums as ReadHistogram reads.
func FuzzReadCoarseHistogram(f *testing.F) {
	for _, c := range histogramSeeds() {
		f.Add(c.bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		compareCoarse(t, data, l)
	})
}
