package mmstats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestPercentilesOfALogNormal feeds 10^6 samples of a log-normal
// distribution and checks every published percentile against the exact
// value of the same rank, within 1%.
func TestPercentilesOfALogNormal(t *testing.T) {
	var h Histogram
	f, err := New(nil, Options{Dir: t.TempDir(), RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if err := f.Add("latency", &h, WithUnit("seconds")); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1_000_000
	samples := make([]float64, n)
	for i := range samples {
		// A latency-like spread: median 20 ms, a long tail.
		samples[i] = math.Exp(math.Log(0.02) + 1.2*rng.NormFloat64())
		h.Observe(samples[i])
	}
	f.Refresh()
	slices.Sort(samples)
	got := statsOf(t, f.Path())
	for _, q := range histQuantiles {
		exact := samples[v1.Rank(q.q, n)-1]
		est := got["latency"+q.suffix].Value.Float()
		if rel := math.Abs(est-exact) / exact; rel > 0.01 {
			t.Errorf("%s = %v, exact %v: %.3f%% off", q.suffix, est, exact, 100*rel)
		}
		if direct := h.Quantile(q.q); direct != est {
			t.Errorf("Quantile(%v) = %v, published %v", q.q, direct, est)
		}
	}
	var sum float64
	for _, s := range samples {
		sum += s
	}
	if c := got["latency.count"].Value.Uint(); c != n {
		t.Errorf("count %d", c)
	}
	if s := got["latency.sum"].Value.Float(); math.Abs(s-sum)/sum > 1e-9 {
		t.Errorf("sum %v, want %v", s, sum)
	}
	if got["latency.min"].Value.Float() != samples[0] || got["latency.max"].Value.Float() != samples[n-1] {
		t.Errorf("min %v max %v, want %v %v", got["latency.min"].Value, got["latency.max"].Value, samples[0], samples[n-1])
	}
	// The main stat is the moving average of the last 100 samples, as
	// Python's TimerField; here the order of observation, not sorted.
	if got["latency"].Value.Float() <= 0 {
		t.Errorf("moving average %v", got["latency"].Value)
	}
	meta := metaOf(t, f.Path())
	if m := meta["latency.p99"]; m.Kind != reader.KindGauge || m.Unit != "seconds" || m.Role != reader.GroupMember {
		t.Errorf("p99 metadata %+v", m)
	}
	if m := meta["latency.count"]; m.Kind != reader.KindCounter || m.Unit != "" {
		t.Errorf("count metadata %+v", m)
	}
	if m := meta["latency"]; m.Role != reader.GroupHead {
		t.Errorf("main stat metadata %+v", m)
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Count() != 0 || h.Value() != 0 {
		t.Error("empty histogram is not all zero")
	}
	for _, v := range []float64{0, -3, math.NaN(), 1e-300, 1e300, math.Inf(1)} {
		h.Observe(v)
	}
	if h.Count() != 5 { // NaN is ignored
		t.Errorf("count %d, want 5", h.Count())
	}
	if q := h.Quantile(0.1); q != 0 {
		t.Errorf("lowest quantile %v, want the min 0", q)
	}
	if q := h.Quantile(1); !math.IsInf(q, 1) {
		t.Errorf("highest quantile %v, want the max +Inf", q)
	}
	st := h.load()
	if u, o := st.counts[0].Load(), st.counts[1].Load(); u != 3 || o != 2 {
		t.Errorf("underflow %d, overflow %d; want 3 (0, -3, 1e-300) and 2 (1e300, +Inf)", u, o)
	}
	// The window's bounds: the default range (no unit) is (2^-10, 2^20].
	var w Histogram
	for _, v := range []float64{0x1p-10, math.Nextafter(0x1p-10, 1), 0x1p20, math.Nextafter(0x1p20, math.Inf(1))} {
		w.Observe(v)
	}
	st = w.load()
	if st.nb != 1920 || st.counts[0].Load() != 1 || st.counts[2].Load() != 1 || st.counts[1].Load() != 1 || st.counts[len(st.counts)-1].Load() != 1 {
		t.Errorf("window edges: %d buckets, underflow %d, first %d, last %d, overflow %d", st.nb,
			st.counts[0].Load(), st.counts[2].Load(), st.counts[len(st.counts)-1].Load(), st.counts[1].Load())
	}
}

func TestHistogramRange(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		unit   string
		first  int
		n      int
	}{
		{0, 0, "seconds", -22*64 + 1, 1920},
		{0, 0, "bytes", 1, 1920},
		{0, 0, "", -10*64 + 1, 1920},
		{0.001, 10, "", v1.Bucket6(math.Float64bits(0.001)) + 1, v1.Bucket6(math.Float64bits(10)) - v1.Bucket6(math.Float64bits(0.001))},
		{0x1p-32, 0x1p32, "", -32*64 + 1, 4096},
	} {
		first, n, err := histWindow(c.lo, c.hi, c.unit)
		if err != nil || first != c.first || n != c.n {
			t.Errorf("histWindow(%v, %v, %q) = %d, %d, %v; want %d, %d", c.lo, c.hi, c.unit, first, n, err, c.first, c.n)
		}
	}
	for _, bad := range [][2]float64{{-1, 10}, {10, 1}, {1, 1}, {0x1p-33, 0x1p32}, {1, math.Inf(1)}, {math.NaN(), 1}} {
		if _, _, err := histWindow(bad[0], bad[1], ""); err == nil {
			t.Errorf("range %v accepted", bad)
		}
	}
	var s struct {
		H Histogram `mmstats:"h,range=0.001:10"`
		T Timer     `mmstats:"t,range=1us:10s"`
	}
	f, err := New(&s, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if s.H.Min != 0.001 || s.H.Max != 10 || s.T.Min != time.Microsecond || s.T.Max != 10*time.Second {
		t.Errorf("range tags: %v %v %v %v", s.H.Min, s.H.Max, s.T.Min, s.T.Max)
	}
	s.T.Observe(time.Second)
	f.Refresh()
	rf, err := reader.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	var h reader.Histogram
	for i, fl := range rf.Fields() {
		if fl.Label == "t.count" {
			if err := rf.ReadHistogram(i, &h); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantLo, wantN, _ := histWindow(1e-6, 10, "seconds")
	if h.Schema != 6 || h.Lo != wantLo || len(h.Counts) != wantN || h.Count != 1 || h.Total() != 1 {
		t.Errorf("timer's histogram: schema %d, window [%d, +%d), count %d, total %d; want [%d, +%d)", h.Schema, h.Lo, len(h.Counts), h.Count, h.Total(), wantLo, wantN)
	}
	for _, tag := range []any{
		&struct {
			H Histogram `mmstats:"h,range=10"`
		}{},
		&struct {
			H Histogram `mmstats:"h,range=10:1"`
		}{},
		&struct {
			T Timer `mmstats:"t,range=1:2"`
		}{},
	} {
		if _, err := New(tag, Options{Dir: t.TempDir()}); !errors.Is(err, ErrModel) {
			t.Errorf("%T: %v, want ErrModel", tag, err)
		}
	}
}

// TestQuantileDoesNotAllocate: Quantile walks the counts in place
// (it used to allocate 32 KiB a call).
func TestQuantileDoesNotAllocate(t *testing.T) {
	var h Histogram
	var tm Timer
	for i := range 1000 {
		h.Observe(float64(i))
		tm.Observe(time.Duration(i) * time.Microsecond)
	}
	if n := testing.AllocsPerRun(100, func() { h.Quantile(0.99) }); n != 0 {
		t.Errorf("Histogram.Quantile allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { tm.Quantile(0.99) }); n != 0 {
		t.Errorf("Timer.Quantile allocates %v times", n)
	}
}

// TestTimeWindowsWithAFakeClock drives the refresher with a fake clock:
// rates and means over 10 s and 1 min, for a timer and a counter.
func TestTimeWindowsWithAFakeClock(t *testing.T) {
	var s struct {
		Req  Timer   `mmstats:"req"`
		Hits Counter `mmstats:"hits,windows=10s|1m"`
	}
	f, err := New(&s, Options{Dir: t.TempDir(), RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	start := time.Unix(1_800_000_000, 0)
	f.refreshAt(start)
	// 60 seconds: 5 events per second of 100 ms for 30 s, then 20 per
	// second of 10 ms for 30 s.
	for sec := 1; sec <= 60; sec++ {
		n, d := 5, 100*time.Millisecond
		if sec > 30 {
			n, d = 20, 10*time.Millisecond
		}
		for i := 0; i < n; i++ {
			s.Req.Observe(d)
			s.Hits.Inc()
		}
		f.refreshAt(start.Add(time.Duration(sec) * time.Second))
		got := statsOf(t, f.Path())
		check := func(label string, want float64) {
			t.Helper()
			if v := got[label].Value.Float(); math.Abs(v-want) > 1e-9*math.Max(1, want) {
				t.Fatalf("after %d s: %s = %v, want %v", sec, label, v, want)
			}
		}
		switch sec {
		case 5: // windows shorter than their length: all the history so far
			check("req.rate10s", 5)
			check("req.avg10s", 0.1)
			check("hits.rate10s", 5)
			check("hits.rate1m", 5)
		case 30:
			check("req.rate10s", 5)
			check("req.rate1m", 5)
		case 35: // 5 s of each
			check("req.rate10s", 12.5)
			check("req.avg10s", (25*0.1+100*0.01)/125)
			check("hits.rate10s", 12.5)
		case 60:
			check("req.rate10s", 20)
			check("req.avg10s", 0.01)
			check("req.rate1m", 12.5)
			check("req.avg1m", (150*0.1+600*0.01)/750)
			check("hits.rate1m", 12.5)
			check("req.count", 750)
		}
	}
	// Nothing happens for 10 s: the short window empties.
	f.refreshAt(start.Add(70 * time.Second))
	got := statsOf(t, f.Path())
	if r := got["req.rate10s"].Value.Float(); r != 0 {
		t.Errorf("rate10s after 10 idle seconds = %v", r)
	}
	// (10 s, 70 s]: 20 s of 5 per second and 30 s of 20 per second.
	if r := got["req.rate1m"].Value.Float(); math.Abs(r-700.0/60) > 1e-9 {
		t.Errorf("rate1m = %v, want %v", r, 700.0/60)
	}
}

func TestWindowNames(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "10s", time.Minute: "1m", 5 * time.Minute: "5m", time.Hour: "1h",
		90 * time.Second: "90s", 1500 * time.Millisecond: "1500ms",
	} {
		if got := windowName(d); got != want {
			t.Errorf("windowName(%v) = %s, want %s", d, got, want)
		}
	}
	for _, bad := range []string{"0s", "-1s", "1us", "10s|10s", "x"} {
		if _, err := parseWindows(bad); err == nil {
			t.Errorf("windows=%s accepted", bad)
		}
	}
}

func statsOf(t *testing.T, path string) map[string]reader.Stat {
	t.Helper()
	stats, err := reader.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]reader.Stat{}
	for _, s := range stats {
		m[s.Label] = s
	}
	return m
}

func metaOf(t *testing.T, path string) map[string]reader.Meta {
	t.Helper()
	rf, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	m := map[string]reader.Meta{}
	for _, fl := range rf.Fields() {
		m[fl.Label] = fl.Meta
	}
	return m
}

// TestBucketsSurviveGrowth: the bucket counts keep being published into
// the file after it grows (the refresher writes them through the
// mapping, which growth keeps at the same address).
func TestBucketsSurviveGrowth(t *testing.T) {
	var tm Timer
	f, err := New(nil, Options{Dir: t.TempDir(), RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if err := f.Add("lat", &tm); err != nil {
		t.Fatal(err)
	}
	tm.Observe(time.Millisecond)
	size := f.Size()
	for i := 0; f.Size() == size; i++ {
		if err := f.Add("filler"+strconv.Itoa(i), &Counter{}); err != nil {
			t.Fatal(err)
		}
	}
	tm.Observe(2 * time.Millisecond)
	tm.Observe(time.Hour) // overflow
	f.Refresh()
	rf, err := reader.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	var h reader.Histogram
	for i, fl := range rf.Fields() {
		if fl.Label == "lat.count" {
			err = rf.ReadHistogram(i, &h)
		}
	}
	if err != nil || h.Count != 3 || h.Total() != 3 || h.Overflow != 1 || math.Abs(h.Quantile(0.5)-tm.Quantile(0.5).Seconds()) > 1e-9 {
		t.Errorf("after growth: %v, count %d, total %d, overflow %d, p50 %v (want %v)", err, h.Count, h.Total(), h.Overflow, h.Quantile(0.5), tm.Quantile(0.5))
	}
}
