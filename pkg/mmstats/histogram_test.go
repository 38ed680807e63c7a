package mmstats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

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
		exact := samples[rankOf(q.q, n)-1]
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
	// Every bucket's midpoint is within 0.78% of both of its bounds.
	for i := 1; i < histBuckets-1; i++ {
		lo := math.Ldexp(1+float64((i-1)&(histSub-1))/histSub, (i-1)>>histSubBits+histMinExp)
		if b := bucketOf(math.Float64bits(lo)); b != i {
			t.Fatalf("bucket %d starts at %v, which falls in bucket %d", i, lo, b)
		}
		if rel := (bucketMid(i) - lo) / lo; rel > 0.0079 {
			t.Fatalf("bucket %d: midpoint %.4f%% above its bound", i, rel*100)
		}
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
