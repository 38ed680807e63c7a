package mmstats

import (
	"math"
	"strings"
	"sync/atomic"
	"time"

	"runtime/metrics"

	"github.com/mmstats/mmstats/internal/v1"
)

// Runtime stats (Options.Runtime; the package documentation says what
// is published and under which labels). The labels are a pure function
// of runtime/metrics.All() (runtimeCatalog), so that every process of
// one Go version publishes the same ones. One refresher (runtimeStats)
// reads every metric with one metrics.Read into samples allocated once,
// and stores only what changed; a runtime histogram (runtimeHist) is a
// cumulative snapshot of counts, not values to observe, so it is
// published by setting the file's bucket counts wholesale.

// runtimePrefix starts the label of every runtime metric.
const runtimePrefix = "go."

// The labels of the process's stats.
const (
	procCPUUser   = "proc.cpu.user"   // CPU time in user mode, seconds (a counter)
	procCPUSystem = "proc.cpu.system" // CPU time in the kernel, seconds (a counter)
	procRSS       = "proc.rss"        // resident set size, bytes
	procFDs       = "proc.fds"        // open file descriptors
	procThreads   = "proc.threads"    // the process's threads (the kernel's, not only the Go runtime's)
)

// runtimeHistMax is the top of the range of a runtime histogram of
// durations, as the default of a Timer: longer pauses and latencies are
// counted above the window, and reported as the max.
const runtimeHistMax = 0x1p8

// runtimeAggr are the aggregation policies of runtime gauges that must
// not add up over processes; the others take their kind's default (a
// sum). Names a Go version no longer has are simply unused.
var runtimeAggr = map[string]Aggregation{
	"/gc/gogc:percent":                  Avg,
	"/gc/gomemlimit:bytes":              Avg,
	"/gc/stack/starting-size:bytes":     Avg,
	"/sched/gomaxprocs:threads":         Avg,
	"/gc/limiter/last-enabled:gc-cycle": None,
}

// runtimeMetric is a runtime metric as it is published.
type runtimeMetric struct {
	name    string // as runtime/metrics names it
	label   string // without the file's label prefix
	unit    string // a unit of the format, or ""
	kind    metrics.ValueKind
	counter bool
	aggr    Aggregation // AggrDefault: the kind's default
}

// skippedMetric is a runtime metric that is not published, and why.
type skippedMetric struct {
	name, why string
}

// histSuffixes are the suffixes of a runtime histogram's stats (see
// histParts, without time windows).
var histSuffixes = []string{"", ".count", ".sum", ".min", ".max", ".p50", ".p90", ".p99", ".p999"}

// runtimeCatalog names the runtime metrics described by descs, and says
// which it skips: a pure function of the descriptions, so that every
// process of one Go version publishes the same labels.
func runtimeCatalog(descs []metrics.Description) (list []runtimeMetric, skipped []skippedMetric) {
	var cands []runtimeMetric
	paths := map[string]int{}
	for _, d := range descs {
		path, unit, ok := splitMetricName(d.Name)
		if !ok {
			skipped = append(skipped, skippedMetric{d.Name, "not a /path:unit name of letters, digits, '-' and '_'"})
			continue
		}
		switch {
		case d.Kind == metrics.KindUint64 || d.Kind == metrics.KindFloat64:
		case d.Kind == metrics.KindFloat64Histogram && d.Cumulative:
		default:
			skipped = append(skipped, skippedMetric{d.Name, "a kind of value this package does not know"})
			continue
		}
		paths[path]++
		cands = append(cands, runtimeMetric{name: d.Name, label: path, unit: unit, kind: d.Kind,
			counter: d.Cumulative, aggr: runtimeAggr[d.Name]})
	}
	taken := map[string]int{}
	for i := range cands {
		c := &cands[i]
		_, unit, _ := splitMetricName(c.name)
		if paths[c.label] > 1 {
			c.label += "." + unit
		}
		c.label = runtimePrefix + c.label
		for _, l := range c.labels() {
			taken[l]++
		}
		c.unit = metaUnit(unit)
	}
	for _, c := range cands {
		clash := false
		for _, l := range c.labels() {
			clash = clash || taken[l] > 1
		}
		if clash {
			skipped = append(skipped, skippedMetric{c.name, "its label " + c.label + " is another metric's too"})
			continue
		}
		list = append(list, c)
	}
	return list, skipped
}

// labels returns every label the metric takes: one, or a histogram's.
func (m *runtimeMetric) labels() []string {
	if m.kind != metrics.KindFloat64Histogram {
		return []string{m.label}
	}
	ls := make([]string, len(histSuffixes))
	for i, s := range histSuffixes {
		ls[i] = m.label + s
	}
	return ls
}

// splitMetricName splits "/a/b-c:unit" into "a.b-c" and "unit". ok is
// false unless the path's elements and the unit are non-empty and of
// letters, digits, '-' and '_' only: labels that every tool shows as they
// are, and that never run two elements together.
func splitMetricName(name string) (path, unit string, ok bool) {
	p, unit, found := strings.Cut(name, ":")
	if !found || !strings.HasPrefix(p, "/") || !plainWord(unit) {
		return "", "", false
	}
	elems := strings.Split(p[1:], "/")
	for _, e := range elems {
		if !plainWord(e) {
			return "", "", false
		}
	}
	return strings.Join(elems, "."), unit, true
}

func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// metaUnit maps a runtime unit to the format's units: cpu-seconds are
// seconds, the format's own units are themselves, the others (objects,
// goroutines, gc-cycles...) none.
func metaUnit(u string) string {
	if u == "cpu-seconds" {
		return "seconds"
	}
	if _, ok := v1.UnitIndex(u); ok {
		return u
	}
	return ""
}

// runtimeStats publishes the runtime metrics and the process's stats; it
// is one refresher of the File. Each refresh reads every metric with one
// metrics.Read into samples allocated once, and stores only the values
// that changed: it does not allocate.
type runtimeStats struct {
	samples []metrics.Sample
	pubs    []runtimePub // per sample
	fields  []labeled

	proc                            procReader
	has                             procSet // the process's stats this system gives
	pv                              procValues
	user, system, rss, fds, threads scalar
}

// runtimePub is where one metric's value goes: a scalar, or a histogram.
type runtimePub struct {
	s *scalar
	h *runtimeHist
}

// procValues are the process's stats as read.
type procValues struct {
	user, system      float64 // seconds
	rss, fds, threads uint64
}

// procSet says which process stats a system gives.
type procSet uint8

const (
	procCPU procSet = 1 << iota
	procMem
	procFD
	procThread
)

// newRuntimeStats lists the runtime metrics of this Go and the process
// stats of this system as fields, ready to be added to a file. It reads
// every metric once, to learn the histograms' buckets. It opens what the
// process stats are read from: release closes it.
func newRuntimeStats() *runtimeStats {
	list, _ := runtimeCatalog(metrics.All())
	r := &runtimeStats{samples: make([]metrics.Sample, len(list)), pubs: make([]runtimePub, len(list))}
	for i, m := range list {
		r.samples[i].Name = m.name
	}
	metrics.Read(r.samples)
	for i, m := range list {
		o := fieldOptions{kind: KindGauge, unit: m.unit, unitSet: true, aggr: m.aggr}
		if m.counter {
			o.kind = KindCounter
		}
		var f Field
		switch v := r.samples[i].Value; {
		case m.kind == metrics.KindUint64 && v.Kind() == metrics.KindUint64:
			r.pubs[i].s = &scalar{code: "Q"}
			f = r.pubs[i].s
		case m.kind == metrics.KindFloat64 && v.Kind() == metrics.KindFloat64:
			r.pubs[i].s = &scalar{code: "d"}
			f = r.pubs[i].s
		case m.kind == metrics.KindFloat64Histogram && v.Kind() == metrics.KindFloat64Histogram:
			h := newRuntimeHist(v.Float64Histogram().Buckets, m.unit)
			if h == nil {
				continue
			}
			r.pubs[i].h = h
			f = h
		default:
			continue // described, but not read as described: skip it
		}
		r.fields = append(r.fields, labeled{label: m.label, field: f, opts: o})
	}
	r.has = r.proc.open()
	add := func(s procSet, label string, f *scalar, code string, kind Kind, unit string) {
		if r.has&s != 0 {
			f.code = code
			r.fields = append(r.fields, labeled{label: label, field: f,
				opts: fieldOptions{kind: kind, unit: unit, unitSet: true}})
		}
	}
	add(procCPU, procCPUUser, &r.user, "d", KindCounter, "seconds")
	add(procCPU, procCPUSystem, &r.system, "d", KindCounter, "seconds")
	add(procMem, procRSS, &r.rss, "Q", KindGauge, "bytes")
	add(procFD, procFDs, &r.fds, "Q", KindGauge, "")
	add(procThread, procThreads, &r.threads, "Q", KindGauge, "")
	return r
}

// refresh reads and publishes every runtime metric and process stat.
func (r *runtimeStats) refresh(time.Time) {
	metrics.Read(r.samples)
	for i := range r.samples {
		v, p := &r.samples[i].Value, &r.pubs[i]
		switch v.Kind() {
		case metrics.KindUint64:
			p.s.set(v.Uint64())
		case metrics.KindFloat64:
			p.s.set(f64(v.Float64()))
		case metrics.KindFloat64Histogram:
			p.h.publish(v.Float64Histogram())
		}
	}
	got := r.proc.read(&r.pv) & r.has
	if got&procCPU != 0 {
		r.user.set(f64(r.pv.user))
		r.system.set(f64(r.pv.system))
	}
	if got&procMem != 0 {
		r.rss.set(r.pv.rss)
	}
	if got&procFD != 0 {
		r.fds.set(r.pv.fds)
	}
	if got&procThread != 0 {
		r.threads.set(r.pv.threads)
	}
}

// release closes what the process stats are read from; later refreshes
// publish the runtime metrics only.
func (r *runtimeStats) release() { r.proc.close() }

// scalar is the 8-byte value ("Q" or "d") of a runtime metric or process
// stat. Only the refresher writes it, under the File's rmu, which growth
// takes too: unlike a Uint64, it has no value in memory to drain or to
// merge. Its methods do nothing on a nil *scalar or before binding (a
// metric whose value is not of its described kind).
type scalar struct {
	claimFlag
	code string // "Q" or "d"
	p    *uint64
}

func (s *scalar) spec() spec                   { return spec{code: s.code, size: 8, kind: KindGauge} }
func (s *scalar) initial([]byte, placement)    {}
func (s *scalar) bind(mem []byte, p placement) { s.p = word64(mem, p.value) }

// set stores x (a uint64, or float64 bits for "d") if it changed: a
// store is a locked instruction, a load is not, and most values do not
// change every second.
func (s *scalar) set(x uint64) {
	if s != nil && s.p != nil && atomic.LoadUint64(s.p) != x {
		atomic.StoreUint64(s.p, x)
	}
}

// releaser is a refresher that holds something to release when its file
// closes.
type releaser interface{ release() }

// releaseRefreshers releases what the refreshers hold, after their last
// refresh (Close).
func (f *File) releaseRefreshers() {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	for _, r := range f.refreshers {
		if rl, ok := r.(releaser); ok {
			rl.release()
		}
	}
}

// runtimeHist publishes a runtime histogram (a cumulative snapshot of
// bucket counts, not values to observe) as a Histogram's group: it sets
// the file's bucket counts wholesale from the runtime's. Each runtime
// bucket maps to one slot of the file's counts, fixed when the histogram
// is made; the slots only grow with the runtime buckets' index, so one
// walk over the runtime counts yields the counts, the extremes and the
// percentiles that v1.Quantiles would compute from the slots.
type runtimeHist struct {
	claimFlag
	unit  string
	lo, n int // the window of schema-6 buckets: [lo, lo+n)

	// Per runtime bucket.
	slot         []int32   // 0 underflow, 1 overflow, 2+k bucket lo+k
	qv           []float64 // what a percentile in it reports: its slot's midpoint
	mid          []float64 // its middle, for the estimate of the sum
	lower, upper []float64 // its bounds as the min and max: 0 for -Inf, the lower bound for +Inf

	g      *group
	region []uint64 // the pad bytes of .count: underflow, overflow, buckets
	values []uint64
	ranks  [4]uint64
	qs     [4]float64
	count  uint64
	once   bool // published at least once
}

// newRuntimeHist maps the buckets of a runtime histogram (len(counts)+1
// ascending bounds, the first possibly -Inf, the last possibly +Inf) to
// the file's schema-6 buckets. It returns nil for bounds it cannot map.
func newRuntimeHist(bounds []float64, unit string) *runtimeHist {
	if len(bounds) < 2 || len(histQuantiles) != 4 {
		return nil
	}
	lo, hi := math.Inf(1), 0.0
	for _, b := range bounds {
		if b > 0 && !math.IsInf(b, 1) {
			lo, hi = math.Min(lo, b), math.Max(hi, b)
		}
	}
	if unit == "seconds" {
		hi = math.Min(hi, runtimeHistMax)
	}
	if !(lo < hi) {
		lo, hi = defaultRange(unit)
	}
	b0 := v1.Bucket6(math.Float64bits(lo))
	n := min(max(v1.Bucket6(math.Float64bits(hi))-b0, 1), maxHistBuckets)
	h := &runtimeHist{unit: unit, lo: b0 + 1, n: n}
	k := len(bounds) - 1
	h.slot, h.qv, h.mid = make([]int32, k), make([]float64, k), make([]float64, k)
	h.lower, h.upper = make([]float64, k), make([]float64, k)
	last := int32(0)
	for i := range k {
		a, b := bounds[i], bounds[i+1]
		if !(a < b) {
			return nil
		}
		h.lower[i], h.upper[i] = math.Max(a, 0), b
		var s int32
		switch {
		case !(a > 0):
			s, h.mid[i] = 0, 0
			if !math.IsInf(b, 1) && b > 0 {
				h.mid[i] = b / 2
			}
		case math.IsInf(b, 1):
			s, h.mid[i], h.upper[i] = 1, a, a
		default:
			h.mid[i] = (a + b) / 2
			switch j := v1.Bucket6(math.Float64bits(math.Sqrt(a)*math.Sqrt(b))) - h.lo; {
			case j < 0:
				s = 0
			case j >= n:
				s = 1
			default:
				s = int32(j) + 2
				h.qv[i] = v1.BucketMid(v1.Schema, h.lo+j)
			}
		}
		// The walk in publish needs the slots in the order of the values:
		// underflow, the window's buckets up, overflow.
		if order(s) < order(last) {
			return nil
		}
		h.slot[i], last = s, s
	}
	h.values = make([]uint64, len(histSuffixes))
	for j, q := range histQuantiles {
		h.qs[j] = q.q
	}
	return h
}

// order ranks a slot in the order of the values it holds.
func order(s int32) int64 {
	if s == 1 {
		return math.MaxInt64
	}
	return int64(s)
}

func (h *runtimeHist) parts(o fieldOptions) ([]part, error) {
	return histParts(h.unit, []time.Duration{}, &histState{lo: int32(h.lo), nb: int32(h.n)})
}

func (h *runtimeHist) initialParts([]byte, []placement) {}

// bindParts finds the group and the counts in the file; the runtime
// stats' refresher publishes them (it is registered when the file is
// complete).
func (h *runtimeHist) bindParts(f *File, mem []byte, ps []placement) {
	h.g = newGroup(mem, ps)
	h.region = words64(mem, ps[1].value+8, h.n+2)
}

// publish sets the group from counts, the runtime's cumulative counts,
// as one snapshot: the bucket counts (only those that changed), .count
// their sum, and the stats computed from them. It does nothing when no
// value was added since the last time.
func (h *runtimeHist) publish(rh *metrics.Float64Histogram) {
	if h == nil || h.g == nil || len(rh.Counts) != len(h.slot) {
		return
	}
	counts := rh.Counts
	var n uint64
	for _, c := range counts {
		n += c
	}
	if h.once && n == h.count {
		return // the counts only grow: none changed
	}
	h.once, h.count = true, n
	var sum float64
	first, last := -1, -1
	for i, c := range counts {
		if c != 0 {
			sum += float64(c) * h.mid[i]
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	var lo, hi, mean float64
	if n > 0 {
		lo, hi, mean = h.lower[first], h.upper[last], sum/float64(n)
	}
	var qv [4]float64
	for j, q := range h.qs {
		h.ranks[j] = v1.Rank(q, n)
	}
	h.g.begin()
	j := 0
	var cum uint64
	for i := 0; i < len(counts); {
		s := h.slot[i]
		var c uint64
		start := i
		for ; i < len(counts) && h.slot[i] == s; i++ {
			c += counts[i]
		}
		// The region is written by this goroutine only: a plain load
		// suffices to see that a count has not changed.
		if h.region[s] != c {
			atomic.StoreUint64(&h.region[s], c)
		}
		if n == 0 {
			continue
		}
		// The percentiles, as v1.Quantiles computes them from the slots.
		for k := start; k < i; k++ {
			cum += counts[k]
			for ; j < len(qv) && counts[k] != 0 && cum >= h.ranks[j]; j++ {
				switch s {
				case 0:
					qv[j] = lo
				case 1:
					qv[j] = hi
				default:
					qv[j] = math.Min(math.Max(h.qv[k], lo), hi)
				}
			}
		}
	}
	v := h.values
	v[0], v[1], v[2], v[3], v[4] = f64(mean), n, f64(sum), f64(lo), f64(hi)
	for j := range qv {
		v[5+j] = f64(qv[j])
	}
	h.g.store(v)
	h.g.end()
}
