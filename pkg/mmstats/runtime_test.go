package mmstats

import (
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/reader"
)

// runtimeOf returns the runtime stats' refresher of f.
func runtimeOf(t *testing.T, f *File) *runtimeStats {
	t.Helper()
	f.rmu.Lock()
	defer f.rmu.Unlock()
	for _, r := range f.refreshers {
		if rt, ok := r.(*runtimeStats); ok {
			return rt
		}
	}
	t.Fatal("no runtime stats in the file")
	return nil
}

// TestRuntimeCatalog: every metric of this Go gets a label of its own,
// named from its path without the unit, with the kind and unit the
// issue asks for; none is skipped (go1.26: 113 metrics, 8 histograms).
func TestRuntimeCatalog(t *testing.T) {
	all := metrics.All()
	list, skipped := runtimeCatalog(all)
	for _, s := range skipped {
		t.Errorf("skipped %s: %s", s.name, s.why)
	}
	if len(list) != len(all) {
		t.Fatalf("%d metrics published of %d", len(list), len(all))
	}
	hists := 0
	seen := map[string]string{}
	for _, m := range list {
		if m.kind == metrics.KindFloat64Histogram {
			hists++
		}
		for _, l := range m.labels() {
			if other, dup := seen[l]; dup {
				t.Errorf("label %s of %s and %s", l, m.name, other)
			}
			seen[l] = m.name
			if !validLabel(l) || !strings.HasPrefix(l, runtimePrefix) {
				t.Errorf("label %q of %s", l, m.name)
			}
		}
	}
	t.Logf("%s: %d metrics, %d histograms, %d labels", runtime.Version(), len(list), hists, len(seen))
	byName := map[string]runtimeMetric{}
	for _, m := range list {
		byName[m.name] = m
	}
	for _, c := range []struct {
		name, label, unit string
		counter           bool
		aggr              Aggregation
	}{
		{"/sched/goroutines:goroutines", "go.sched.goroutines", "", false, reader.AggrDefault},
		{"/gc/cycles/total:gc-cycles", "go.gc.cycles.total", "", true, reader.AggrDefault},
		{"/memory/classes/heap/objects:bytes", "go.memory.classes.heap.objects", "bytes", false, reader.AggrDefault},
		{"/gc/heap/allocs:bytes", "go.gc.heap.allocs.bytes", "bytes", true, reader.AggrDefault},
		{"/gc/heap/allocs:objects", "go.gc.heap.allocs.objects", "", true, reader.AggrDefault},
		{"/gc/heap/frees:bytes", "go.gc.heap.frees.bytes", "bytes", true, reader.AggrDefault},
		{"/gc/heap/frees:objects", "go.gc.heap.frees.objects", "", true, reader.AggrDefault},
		{"/gc/heap/objects:objects", "go.gc.heap.objects", "", false, reader.AggrDefault},
		{"/cpu/classes/gc/total:cpu-seconds", "go.cpu.classes.gc.total", "seconds", true, reader.AggrDefault},
		{"/gc/gogc:percent", "go.gc.gogc", "percent", false, Avg},
		{"/sched/gomaxprocs:threads", "go.sched.gomaxprocs", "", false, Avg},
		{"/gc/limiter/last-enabled:gc-cycle", "go.gc.limiter.last-enabled", "", false, None},
		{"/gc/pauses:seconds", "go.gc.pauses", "seconds", true, reader.AggrDefault},
		{"/gc/heap/allocs-by-size:bytes", "go.gc.heap.allocs-by-size", "bytes", true, reader.AggrDefault},
	} {
		m, ok := byName[c.name]
		if !ok {
			t.Logf("%s: not in %s", c.name, runtime.Version())
			continue
		}
		if m.label != c.label || m.unit != c.unit || m.counter != c.counter || m.aggr != c.aggr {
			t.Errorf("%s: %s, unit %q, counter %v, aggr %v; want %s, %q, %v, %v",
				c.name, m.label, m.unit, m.counter, m.aggr, c.label, c.unit, c.counter, c.aggr)
		}
	}
}

// TestRuntimeCatalogRules: names that differ by unit only take their
// unit; a label another metric still takes, a name that is not a plain
// /path:unit and an unknown kind are skipped, each with its reason, and
// the others published in order.
func TestRuntimeCatalogRules(t *testing.T) {
	d := func(name string, kind metrics.ValueKind, cum bool) metrics.Description {
		return metrics.Description{Name: name, Kind: kind, Cumulative: cum}
	}
	list, skipped := runtimeCatalog([]metrics.Description{
		d("/a/b:bytes", metrics.KindUint64, true),
		d("/a/b:objects", metrics.KindUint64, true),
		d("/a/b/bytes:widgets", metrics.KindUint64, false), // go.a.b.bytes again
		d("/h:seconds", metrics.KindFloat64Histogram, true),
		d("/h/p99:seconds", metrics.KindFloat64, false), // go.h.p99: the histogram's
		d("/snap:seconds", metrics.KindFloat64Histogram, false),
		d("/bad:x", metrics.KindBad, false),
		d("/future:x", metrics.ValueKind(99), false),
		d("no-slash:x", metrics.KindUint64, false),
		d("/a//b:x", metrics.KindUint64, false),
		d("/a b:x", metrics.KindUint64, false),
		d("/a.b:x", metrics.KindUint64, false),
		d("/nounit", metrics.KindUint64, false),
		d("/ok/x-y_z:cpu-seconds", metrics.KindFloat64, true),
	})
	var got []string
	for _, m := range list {
		got = append(got, m.name+" "+m.label+" "+m.unit)
	}
	want := []string{"/a/b:objects go.a.b.objects ", "/ok/x-y_z:cpu-seconds go.ok.x-y_z seconds"}
	if !slices.Equal(got, want) {
		t.Errorf("published %q, want %q", got, want)
	}
	why := map[string]string{}
	for _, s := range skipped {
		why[s.name] = s.why
	}
	for name, reason := range map[string]string{
		"/a/b:bytes": "another metric's", "/a/b/bytes:widgets": "another metric's",
		"/h:seconds": "another metric's", "/h/p99:seconds": "another metric's",
		"/snap:seconds": "kind", "/bad:x": "kind", "/future:x": "kind",
		"no-slash:x": "/path:unit", "/a//b:x": "/path:unit", "/a b:x": "/path:unit",
		"/a.b:x": "/path:unit", "/nounit": "/path:unit",
	} {
		if !strings.Contains(why[name], reason) {
			t.Errorf("%s: skipped for %q, want a reason with %q", name, why[name], reason)
		}
	}
	// A metric a Go version no longer has is simply absent.
	if list, skipped := runtimeCatalog(nil); len(list) != 0 || len(skipped) != 0 {
		t.Errorf("no metrics: %v, %v", list, skipped)
	}
}

// TestRuntimeHistSuffixes: the catalog checks collisions with the labels
// that histParts gives a runtime histogram.
func TestRuntimeHistSuffixes(t *testing.T) {
	ps, err := (&runtimeHist{unit: "seconds", lo: 1, n: 4}).parts(fieldOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.suffix)
	}
	if !slices.Equal(got, histSuffixes) {
		t.Errorf("parts %q, histSuffixes %q", got, histSuffixes)
	}
}

// TestRuntimeHistMapping: each runtime bucket goes to the file bucket of
// its geometric midpoint; buckets at or below 0 to the underflow, the
// last, unbounded one to the overflow; bounds that do not ascend are
// refused.
func TestRuntimeHistMapping(t *testing.T) {
	inf := math.Inf(1)
	h := newRuntimeHist([]float64{-inf, 0, 1e-6, 2e-6, 1e3, 2e3, inf}, "seconds")
	if h == nil {
		t.Fatal("refused")
	}
	// From the smallest positive bound to 256 s, the cap of durations.
	if lo, hi := v1.BucketUpper(v1.Schema, h.lo-1), v1.BucketUpper(v1.Schema, h.lo+h.n-1); lo < 1e-6 || lo > 1e-6*1.011 || hi != 256 {
		t.Errorf("window (%g, %g], want (1e-6, 256]", lo, hi)
	}
	wantSlot := []string{"under", "under", "window", "window", "over", "over"}
	for i, s := range h.slot {
		kind := "window"
		switch s {
		case 0:
			kind = "under"
		case 1:
			kind = "over"
		}
		if kind != wantSlot[i] {
			t.Errorf("bucket %d: %s, want %s", i, kind, wantSlot[i])
		}
	}
	if mid := math.Sqrt(1e-6 * 2e-6); math.Abs(h.qv[2]/mid-1) > 0.0055 {
		t.Errorf("bucket [1e-6, 2e-6) reports %g, want %g within 0.55%%", h.qv[2], mid)
	}
	if h.lower[0] != 0 || h.upper[5] != 2e3 {
		t.Errorf("extremes of the outer buckets: %g, %g; want 0 and 2e3", h.lower[0], h.upper[5])
	}
	for _, bad := range [][]float64{{1}, {1, 1}, {2, 1}, {0, math.NaN()}} {
		if newRuntimeHist(bad, "") != nil {
			t.Errorf("bounds %v accepted", bad)
		}
	}
}

// TestRuntimeLabelsInFile: a file with Options.Runtime holds every
// metric of this Go, under the label prefix, with its kind, unit and
// policy in the metadata; histograms carry buckets; the process stats
// are there (Linux: all five).
func TestRuntimeLabelsInFile(t *testing.T) {
	f, err := New(nil, Options{Dir: t.TempDir(), LabelPrefix: "app.", Runtime: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	rf, err := reader.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	byLabel := map[string]reader.Field{}
	for _, fl := range rf.Fields() {
		byLabel[fl.Label] = fl
	}
	list, _ := runtimeCatalog(metrics.All())
	for _, m := range list {
		fl, ok := byLabel["app."+m.label]
		if !ok {
			t.Errorf("%s: no app.%s", m.name, m.label)
			continue
		}
		kind := reader.KindGauge
		if m.counter && m.kind != metrics.KindFloat64Histogram { // a histogram's main stat is its mean
			kind = reader.KindCounter
		}
		if fl.Meta.Kind != kind || fl.Meta.Unit != m.unit {
			t.Errorf("%s: %s %s, want %s %q", fl.Label, fl.Meta.Kind, fl.Meta.Unit, kind, m.unit)
		}
		if m.kind == metrics.KindFloat64Histogram {
			c := byLabel["app."+m.label+".count"]
			if !c.HasBuckets() || c.Meta.Kind != reader.KindCounter {
				t.Errorf("%s.count: no buckets, or not a counter (%s)", fl.Label, c.Meta.Kind)
			}
			if p := byLabel["app."+m.label+".p99"]; p.Meta.Aggregation != reader.AggrQuantile || p.Meta.Unit != m.unit {
				t.Errorf("%s.p99: %v %q", fl.Label, p.Meta.Aggregation, p.Meta.Unit)
			}
		} else if want := defaultAggregation(kind, m.aggr); fl.Meta.Aggregation != want {
			t.Errorf("%s: policy %v, want %v", fl.Label, fl.Meta.Aggregation, want)
		}
	}
	want := map[string]reader.Meta{
		"app.proc.cpu.user":   {Kind: reader.KindCounter, Unit: "seconds", Aggregation: Sum},
		"app.proc.cpu.system": {Kind: reader.KindCounter, Unit: "seconds", Aggregation: Sum},
	}
	if runtime.GOOS == "linux" {
		want["app.proc.rss"] = reader.Meta{Kind: reader.KindGauge, Unit: "bytes", Aggregation: Sum}
		want["app.proc.fds"] = reader.Meta{Kind: reader.KindGauge, Aggregation: Sum}
		want["app.proc.threads"] = reader.Meta{Kind: reader.KindGauge, Aggregation: Sum}
	}
	for l, m := range want {
		if got, ok := byLabel[l]; !ok || got.Meta != m {
			t.Errorf("%s: %+v (present: %v), want %+v", l, got.Meta, ok, m)
		}
	}
}

// TestRuntimeOff: without the option, no runtime or process stat.
func TestRuntimeOff(t *testing.T) {
	f, err := New(nil, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	stats, err := reader.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if strings.HasPrefix(s.Label, "go.") || strings.HasPrefix(s.Label, "proc.") {
			t.Errorf("%s published without Options.Runtime", s.Label)
		}
	}
}

// TestRuntimeFileBytes measures what the option adds to a file (the
// README quotes it).
func TestRuntimeFileBytes(t *testing.T) {
	size := func(rt bool) (end, size int) {
		f, err := New(nil, Options{Dir: t.TempDir(), Runtime: rt})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Remove()
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.end, f.size
	}
	end0, size0 := size(false)
	end1, size1 := size(true)
	added := end1 - end0
	t.Logf("%s: Runtime adds %d bytes of fields (%.1f KiB); the file grows from %d to %d bytes",
		runtime.Version(), added, float64(added)/1024, size0, size1)
	if added > 128<<10 {
		t.Errorf("Runtime adds %d bytes, more than the 128 KiB the documentation promises", added)
	}
}

// TestRuntimeHistogramsAgreeWithReader: a runtime histogram's group is a
// consistent snapshot as a Histogram's is: .count is the sum of its
// buckets, and each published percentile is the one the reader computes
// from the buckets (what the tools compute after merging).
func TestRuntimeHistogramsAgreeWithReader(t *testing.T) {
	f, err := New(nil, Options{Dir: t.TempDir(), Runtime: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	var sink [][]byte
	for i := range 2000 {
		sink = append(sink, make([]byte, i*37%5000))
		if i%500 == 0 {
			runtime.GC()
		}
	}
	_ = sink
	f.Refresh()
	rf, err := reader.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	stats, err := rf.Stats()
	if err != nil {
		t.Fatal(err)
	}
	value := map[string]float64{}
	for _, s := range stats {
		value[s.Label] = s.Value.Float()
	}
	list, _ := runtimeCatalog(metrics.All())
	checked := 0
	for _, m := range list {
		if m.kind != metrics.KindFloat64Histogram {
			continue
		}
		i, _, ok := rf.Lookup(m.label)
		if !ok {
			t.Fatalf("no %s", m.label)
		}
		var h reader.Histogram
		if err := rf.ReadHistogram(i, &h); err != nil {
			t.Fatalf("%s: %v", m.label, err)
		}
		if h.Count != h.Total() || float64(h.Count) != value[m.label+".count"] {
			t.Errorf("%s: count %d, buckets %d, .count %v", m.label, h.Count, h.Total(), value[m.label+".count"])
		}
		if h.Count == 0 {
			continue
		}
		checked++
		for _, q := range histQuantiles {
			if got, want := value[m.label+q.suffix], h.Quantile(q.q); got != want {
				t.Errorf("%s%s = %v, the reader's quantile of the buckets %v", m.label, q.suffix, got, want)
			}
		}
		if mean := h.Sum / float64(h.Count); math.Abs(value[m.label]-mean) > 1e-9*mean {
			t.Errorf("%s = %v, want .sum/.count = %v", m.label, value[m.label], mean)
		}
	}
	if checked < 3 {
		t.Errorf("only %d runtime histograms had values", checked)
	}
}

// BenchmarkRuntimeRefresh is one refresh of every runtime metric and
// process stat (what Options.Runtime adds to each RefreshInterval), next
// to runtime.ReadMemStats, which stops the world, in the same run: on an
// idle process, and while goroutines compute on every other P (busy),
// which a stop of the world must preempt.
func BenchmarkRuntimeRefresh(b *testing.B) {
	f, err := New(nil, Options{Dir: b.TempDir(), Runtime: true, RefreshInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Remove()
	samples := make([]metrics.Sample, len(metrics.All()))
	for i, d := range metrics.All() {
		samples[i].Name = d.Name
	}
	metrics.Read(samples)
	var m runtime.MemStats
	for _, busy := range []bool{false, true} {
		name := "idle"
		if busy {
			name = "busy"
			stop := make(chan struct{})
			for range max(runtime.GOMAXPROCS(0)-1, 1) {
				go spin(stop)
			}
			defer close(stop)
		}
		b.Run(name+"/Refresh", func(b *testing.B) {
			measure(b, f.Refresh)
		})
		b.Run(name+"/ReadMemStats", func(b *testing.B) {
			measure(b, func() { runtime.ReadMemStats(&m) })
		})
		b.Run(name+"/metrics.Read", func(b *testing.B) { // the part runtime/metrics takes
			measure(b, func() { metrics.Read(samples) })
		})
	}
}

// measure runs op b.N times and reports, besides the time per op, the
// CPU time its thread spent per op (cpu-ns/op, on Linux): on a machine
// shared with other work, ns/op counts the time the thread waited for a
// CPU too, cpu-ns/op does not. (For ReadMemStats it leaves out the work
// of the other threads that the stop of the world waits for.)
func measure(b *testing.B, op func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	start := threadCPU()
	for b.Loop() {
		op()
	}
	if cpu := threadCPU() - start; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// spin computes until stop closes, without a call that could yield.
func spin(stop chan struct{}) {
	x := 1.0
	for {
		select {
		case <-stop:
			return
		default:
		}
		for i := 0; i < 1e5; i++ {
			x = x*1.0000001 + 1e-9
		}
	}
}

// TestRuntimeValues checks the published values against runtime/metrics
// (and, on Linux, /proc and getrusage) read in the same process just
// before (a) and just after (b) a refresh: a counter's published value is
// never below a nor above b. A gauge's equals a when a == b (the value
// held still across the refresh); as other goroutines run, a gauge can
// also move and come back in between (goroutines waking, a span swept),
// so each gauge must agree in most such rounds and in at least 3 (the
// test repeats, at most 200 times): a gauge published wrong or stale
// disagrees in every round. Histograms: .count and every bucket count lie
// between a's and b's counts of the runtime buckets that map to them.
func TestRuntimeValues(t *testing.T) {
	f, err := New(nil, Options{Dir: t.TempDir(), Runtime: true, RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	rt := runtimeOf(t, f)
	list, _ := runtimeCatalog(metrics.All())
	counter := map[string]bool{}
	for _, m := range list {
		counter[m.label] = m.counter
	}
	for _, l := range []string{procCPUUser, procCPUSystem} {
		counter[l] = true
	}
	rf, err := reader.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()

	// direct reads the runtime's metrics and the process's stats into
	// samples and proc, without allocating once warm (the runtime part).
	newSamples := func() []metrics.Sample {
		s := make([]metrics.Sample, len(list))
		for i, m := range list {
			s[i].Name = m.name
		}
		metrics.Read(s)
		return s
	}
	a, b := newSamples(), newSamples()
	var pa, pb map[string]float64
	verified := map[string]*agreement{}
	gauges := 0
	for _, m := range list {
		if !m.counter {
			gauges++
		}
	}
	pgauges := len(procDirect(t, rt))
	var hist reader.Histogram
	settled := func() bool {
		n := 0
		for _, a := range verified {
			if a.agree >= 3 {
				n++
			}
		}
		return n == gauges+pgauges
	}
	for round := 0; round < 200 && !settled(); round++ {
		pa = procDirect(t, rt)
		metrics.Read(a)
		f.Refresh()
		metrics.Read(b)
		pb = procDirect(t, rt)

		stats, err := rf.Stats()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]reader.Value{}
		for _, s := range stats {
			got[s.Label] = s.Value
		}
		for i, m := range list {
			va, vb := a[i].Value, b[i].Value
			switch va.Kind() {
			case metrics.KindUint64:
				checkValue(t, m.label, m.counter, float64(va.Uint64()), float64(vb.Uint64()), got[m.label].Float(), verified)
			case metrics.KindFloat64:
				checkValue(t, m.label, m.counter, va.Float64(), vb.Float64(), got[m.label].Float(), verified)
			case metrics.KindFloat64Histogram:
				ha, hb := va.Float64Histogram(), vb.Float64Histogram()
				checkValue(t, m.label+".count", true, float64(sumCounts(ha.Counts)), float64(sumCounts(hb.Counts)), got[m.label+".count"].Float(), nil)
				idx, _, _ := rf.Lookup(m.label)
				if err := rf.ReadHistogram(idx, &hist); err != nil {
					t.Fatalf("%s: %v", m.label, err)
				}
				checkBuckets(t, m.label, rt.pubs[i].h, ha.Counts, hb.Counts, &hist)
			}
		}
		for l, x := range pa {
			checkValue(t, l, counter[l], x, pb[l], got[l].Float(), verified)
		}
		if t.Failed() {
			return
		}
	}
	check := func(l string) {
		a := verified[l]
		switch {
		case a == nil || a.agree == 0:
			t.Errorf("gauge %s never held still across a refresh: not verified", l)
		case a.disagree >= a.agree:
			t.Errorf("gauge %s: published %d times as read, %d times not:\n%s", l, a.agree, a.disagree, a.log)
		case a.disagree > 0:
			t.Logf("gauge %s: published %d times as read, %d times not (it moved and came back):\n%s", l, a.agree, a.disagree, a.log)
		}
	}
	for _, m := range list {
		if !m.counter && m.kind != metrics.KindFloat64Histogram {
			check(m.label)
		}
	}
	for l := range pa {
		if !counter[l] {
			check(l)
		}
	}
	t.Logf("%d gauges published as read around a refresh, counters between the readings", len(verified))
}

// checkValue checks a published value p against the direct readings a
// (before the refresh) and b (after).
func checkValue(t *testing.T, label string, counter bool, a, b, p float64, verified map[string]*agreement) {
	t.Helper()
	if counter {
		if p < a || p > b {
			t.Errorf("counter %s = %v, outside [%v, %v] read around the refresh", label, p, a, b)
		}
		return
	}
	if a == b {
		g := verified[label]
		if g == nil {
			g = new(agreement)
			verified[label] = g
		}
		if p == a {
			g.agree++
		} else {
			g.disagree++
			g.log += fmt.Sprintf("  published %v, read %v before and after the refresh\n", p, a)
		}
	}
}

// agreement counts the rounds in which a gauge that held still across a
// refresh was published as read, and those in which it was not.
type agreement struct {
	agree, disagree int
	log             string
}

// checkBuckets checks every bucket count of a published runtime
// histogram against the runtime's counts before and after.
func checkBuckets(t *testing.T, label string, h *runtimeHist, a, b []uint64, got *reader.Histogram) {
	t.Helper()
	lo, hi := make([]uint64, h.n+2), make([]uint64, h.n+2)
	for i, s := range h.slot {
		lo[s] += a[i]
		hi[s] += b[i]
	}
	pub := append([]uint64{got.Underflow, got.Overflow}, got.Counts...)
	if got.Lo != h.lo || len(got.Counts) != h.n {
		t.Fatalf("%s: window [%d, +%d), want [%d, +%d)", label, got.Lo, len(got.Counts), h.lo, h.n)
	}
	for s := range pub {
		if pub[s] < lo[s] || pub[s] > hi[s] {
			t.Errorf("%s: slot %d holds %d, outside [%d, %d]", label, s, pub[s], lo[s], hi[s])
		}
	}
}

func sumCounts(c []uint64) (n uint64) {
	for _, x := range c {
		n += x
	}
	return n
}
