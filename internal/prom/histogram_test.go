package prom

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/pkg/reader"
)

// randomHistogram returns a histogram of schema s over a window of n
// buckets from lo, with empty runs of every length up to 4 between
// buckets with values, and an underflow and overflow.
func randomHistogram(rng *rand.Rand, s, lo, n int) *reader.Histogram {
	h := &reader.Histogram{Schema: s, Lo: lo, Counts: make([]uint64, n), Underflow: 3, Overflow: 5}
	for k := 0; k < n; {
		h.Counts[k] = 1 + rng.Uint64N(1000)
		k += 1 + rng.IntN(5)
	}
	h.Count = h.Total()
	h.Sum = 12.5
	return h
}

// TestClassicBucketsAreExact: at every classic schema, the count at
// each le is exactly the number of values at or below it, at the bounds
// 2^(k/2^schema) inside the window, whatever the window's alignment;
// the overflow counts in +Inf only.
func TestClassicBucketsAreExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for classic := range MaxClassicSchema + 1 {
		for _, c := range []struct{ schema, lo, n int }{
			{6, -1407, 1920}, // the writer's default for seconds: 2^-22 to 2^8
			{6, 1, 1920},     // bytes: 1 to 2^30
			{6, -13, 300},    // a window that starts and ends between bounds
			{6, 5, 3},        // a window without a bound inside
			{6, 60, 10},      // one bound inside (1 at schema 0)
			{8, -100, 900},
			{3, -20, 50}, // schema 3 itself
			{2, -7, 40},  // coarser than schema 3: its own bounds
			{0, 0, 5},
		} {
			h := randomHistogram(rng, c.schema, c.lo, c.n)
			v := newHistValue(h, classic)
			lower, _ := h.BucketBounds(c.lo)
			_, upper := h.BucketBounds(c.lo + c.n - 1)
			cs := min(c.schema, int(classic))
			if v.cschema != cs || v.count != h.Total() || v.sum != 12.5 {
				t.Errorf("schema %d, %+v: schema %d, count %d, sum %v", classic, c, v.cschema, v.count, v.sum)
			}
			for j, got := range v.cum {
				le := v.bound(j)
				if le < lower*(1-1e-12) || le > upper*(1+1e-12) {
					t.Errorf("schema %d, %+v: le %v outside the window (%v, %v]", classic, c, le, lower, upper)
				}
				want := h.Underflow
				for k, n := range h.Counts {
					if _, up := h.BucketBounds(c.lo + k); up <= le*(1+1e-12) {
						want += n
					}
				}
				if got != want {
					t.Errorf("schema %d, %+v: le %v counts %d, want %d", classic, c, le, got, want)
				}
			}
			// Every bound of the window is there: one more on either side
			// would leave it.
			step := math.Exp2(1 / float64(int(1)<<cs))
			if len(v.cum) > 0 {
				first, last := v.bound(0), v.bound(len(v.cum)-1)
				if first/step >= lower*(1+1e-12) || last*step <= upper*(1-1e-12) {
					t.Errorf("schema %d, %+v: bounds %v to %v, window (%v, %v]", classic, c, first, last, lower, upper)
				}
			} else if math.Ceil(math.Log2(lower)*float64(int(1)<<cs)) <= math.Floor(math.Log2(upper)*float64(int(1)<<cs)) {
				t.Errorf("schema %d, %+v: no bound in the window (%v, %v]", classic, c, lower, upper)
			}
			if c.n == 3 && len(v.cum) != 0 {
				t.Errorf("schema %d, %+v: %d bounds in a window of none", classic, c, len(v.cum))
			}
		}
	}
}

// TestNativeBuckets: the native histogram holds the writer's buckets at
// its schema, the underflow as the zero bucket (its threshold the
// window's lower bound) and the overflow in the bucket above the window;
// its spans decode to exactly these counts (gaps of one or two empty
// buckets are zeros inside a span, longer ones a new span).
func TestNativeBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ schema, lo, n int }{{6, -1407, 1920}, {6, 1, 100}, {4, -3, 7}} {
		h := randomHistogram(rng, c.schema, c.lo, c.n)
		pb := newHistValue(h, DefaultClassicSchema).proto()
		want := map[int]uint64{c.lo + c.n: h.Overflow}
		for k, n := range h.Counts {
			if n != 0 {
				want[c.lo+k] = n
			}
		}
		got := promtest.NativeBuckets(t, pb)
		if len(got) != len(want) {
			t.Errorf("%+v: %d buckets, want %d", c, len(got), len(want))
		}
		for i, n := range want {
			if got[i] != n {
				t.Errorf("%+v: bucket %d holds %d, want %d", c, i, got[i], n)
			}
		}
		lower, _ := h.BucketBounds(c.lo)
		if pb.GetSchema() != int32(c.schema) || pb.GetZeroThreshold() != lower || pb.GetZeroCount() != h.Underflow ||
			pb.GetSampleCount() != h.Total() || pb.GetSampleSum() != 12.5 {
			t.Errorf("%+v: schema %d, zero bucket %v holding %d, count %d, sum %v", c, pb.GetSchema(),
				pb.GetZeroThreshold(), pb.GetZeroCount(), pb.GetSampleCount(), pb.GetSampleSum())
		}
		for i, sp := range pb.GetPositiveSpan() {
			if i > 0 && sp.GetOffset() <= 2 {
				t.Errorf("%+v: span %d after a gap of %d: should be zeros in the span before", c, i, sp.GetOffset())
			}
		}
	}
	// Empty: a no-op span marks it as native.
	empty := newHistValue(&reader.Histogram{Schema: 6, Lo: 1, Counts: make([]uint64, 10)}, DefaultClassicSchema).proto()
	if sp := empty.GetPositiveSpan(); len(sp) != 1 || sp[0].GetLength() != 0 || len(empty.GetPositiveDelta()) != 0 {
		t.Errorf("empty histogram: spans %v, deltas %v", sp, empty.GetPositiveDelta())
	}
}

// TestHistogramText: a histogram's series in the text format, and the
// same in protobuf, at classic schema 3 (and at the default schema 0 in
// TestHistogramTextDefault).
func TestHistogramText(t *testing.T) {
	h := &reader.Histogram{Schema: 6, Lo: 1, Counts: make([]uint64, 24), Underflow: 1, Overflow: 2, Sum: 40.5}
	h.Counts[0] = 4  // (1, 2^(1/64)]
	h.Counts[7] = 8  // bucket 8, up to 2^(1/8)
	h.Counts[8] = 16 // bucket 9, above
	h.Count = h.Total()
	s := Set{Classic: 3}
	s.AddHistogram("m_seconds", "m", []Label{{"file", "a"}}, h)
	var out bytes.Buffer
	s.WriteTo(&out)
	want := `# HELP m_seconds m
# TYPE m_seconds histogram
m_seconds_bucket{file="a",le="1"} 1
m_seconds_bucket{file="a",le="1.0905077326652577"} 13
m_seconds_bucket{file="a",le="1.189207115002721"} 29
m_seconds_bucket{file="a",le="1.2968395546510096"} 29
m_seconds_bucket{file="a",le="+Inf"} 31
m_seconds_sum{file="a"} 40.5
m_seconds_count{file="a"} 31
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	fam := promtest.Parse(t, out.String())["m_seconds"]
	if fam.GetType().String() != "HISTOGRAM" || fam.GetMetric()[0].GetHistogram().GetSampleCount() != 31 {
		t.Errorf("parsed as %v", fam)
	}
	if s.AddHistogram("m_seconds", "", []Label{{"file", "a"}}, h) || s.Add("m_seconds", "", Gauge, []Label{{"file", "b"}}, reader.UintValue(1)) {
		t.Error("a duplicate series, or a number in a histogram, was added")
	}
	var pb bytes.Buffer
	if _, err := s.WriteProto(&pb); err != nil {
		t.Fatal(err)
	}
	ph := promtest.ParseProto(t, pb.Bytes())["m_seconds"].GetMetric()[0].GetHistogram()
	if len(ph.GetBucket()) != 4 || ph.GetBucket()[1].GetCumulativeCount() != 13 || ph.GetSchema() != 6 || ph.GetSampleCount() != 31 {
		t.Errorf("protobuf: %v", ph)
	}
}

// TestUnreadGroupLeftOut: a histogram that could not be read this time
// (the file changed under the reader) is left out with the stats it
// stands for, rather than turn them into gauges until the next scrape.
func TestUnreadGroupLeftOut(t *testing.T) {
	q := reader.Meta{Kind: reader.KindGauge, Role: reader.GroupMember, Aggregation: reader.AggrQuantile}
	stats := []reader.Stat{
		{Label: "lat", Value: reader.FloatValue(1), Meta: reader.Meta{Kind: reader.KindGauge, Unit: "seconds", Role: reader.GroupHead}},
		{Label: "lat.count", Value: reader.UintValue(3), Meta: reader.Meta{Kind: reader.KindCounter, Role: reader.GroupMember}},
		{Label: "lat.max", Value: reader.FloatValue(2), Meta: reader.Meta{Kind: reader.KindGauge, Unit: "seconds", Role: reader.GroupMember}},
		{Label: "lat.p99", Value: reader.FloatValue(2), Meta: q},
	}
	groups := []Group{{Label: "lat", Meta: stats[0].Meta, Err: reader.ErrBusy}}
	var s Set
	s.AddFileGroups("a.mmstats", "1", stats, groups)
	var out bytes.Buffer
	s.WriteTo(&out)
	fams := promtest.Parse(t, out.String())
	if len(fams) != 1 || fams["mmstats_lat_max_seconds"] == nil {
		t.Errorf("got\n%s", out.String())
	}
}

// TestHistogramTextDefault: at the default classic schema, the bounds
// are the powers of two inside the window, the lowest the window's
// lower bound, holding the underflow.
func TestHistogramTextDefault(t *testing.T) {
	// Schema 6, buckets 1 to 200: the window (1, 2^(200/64)] = (1, 8.7].
	h := &reader.Histogram{Schema: 6, Lo: 1, Counts: make([]uint64, 200), Underflow: 1, Overflow: 2, Sum: 40.5}
	h.Counts[0] = 4    // (1, 2^(1/64)]
	h.Counts[63] = 8   // bucket 64, up to 2
	h.Counts[64] = 16  // bucket 65, above 2
	h.Counts[191] = 32 // bucket 192, up to 8
	h.Count = h.Total()
	var s Set
	s.AddHistogram("m_seconds", "m", []Label{{"file", "a"}}, h)
	var out bytes.Buffer
	s.WriteTo(&out)
	want := `# HELP m_seconds m
# TYPE m_seconds histogram
m_seconds_bucket{file="a",le="1"} 1
m_seconds_bucket{file="a",le="2"} 13
m_seconds_bucket{file="a",le="4"} 29
m_seconds_bucket{file="a",le="8"} 61
m_seconds_bucket{file="a",le="+Inf"} 63
m_seconds_sum{file="a"} 40.5
m_seconds_count{file="a"} 63
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
