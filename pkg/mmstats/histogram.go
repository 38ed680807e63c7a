package mmstats

import (
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/reader"
)

// The buckets of a Histogram are exponential, as Prometheus's native
// histograms at schema 6: bucket i holds the values in
// (2^((i-1)/64), 2^(i/64)], 64 buckets per power of two, so a bucket's
// geometric midpoint is within 2^(1/128)-1 = 0.54% of every value in it.
// The bucket of a value comes from the bits of its float64 (exponent,
// then a table on the top mantissa bits and one comparison: see
// v1.Bucket6), without a logarithm. A histogram counts a window of
// buckets, [lo, lo+n), plus an underflow (zero, and values at or below
// the window) and an overflow; percentiles that land there report the
// min or the max. The refresher publishes the counts in the file, in the
// pad bytes of the .count stat, so that readers can merge the
// histograms of many processes (see package reader).

// maxHistBuckets bounds a window: 64 powers of two, 32 KiB of counts.
const maxHistBuckets = 64 * 64

// histQuantiles are the percentiles a Histogram publishes, with the
// suffixes of their stats.
var histQuantiles = []struct {
	q      float64
	suffix string
}{{0.5, ".p50"}, {0.9, ".p90"}, {0.99, ".p99"}, {0.999, ".p999"}}

// defaultRange returns the default range of a histogram of unit: about
// 0.24 µs to 256 s for durations, 1 byte to 1 GiB for sizes, 2^-10 to
// 2^20 otherwise; 30 powers of two (1920 buckets) each.
func defaultRange(unit string) (lo, hi float64) {
	switch unit {
	case "seconds":
		return 0x1p-22, 0x1p8
	case "bytes":
		return 1, 0x1p30
	}
	return 0x1p-10, 0x1p20
}

// histWindow returns the window of buckets that covers the range
// (lo, hi] (0 for either: the default of unit): from the bucket just above
// lo's to hi's.
func histWindow(lo, hi float64, unit string) (first, n int, err error) {
	dlo, dhi := defaultRange(unit)
	if lo == 0 {
		lo = dlo
	}
	if hi == 0 {
		hi = dhi
	}
	if !(lo >= 0x1p-1000 && hi <= 0x1p1000 && hi > lo) {
		return 0, 0, modelError("histogram range %v to %v: want 2^-1000 <= min < max <= 2^1000", lo, hi)
	}
	b := v1.Bucket6(math.Float64bits(lo))
	n = v1.Bucket6(math.Float64bits(hi)) - b
	if n < 1 || n > maxHistBuckets {
		return 0, 0, modelError("histogram range %v to %v: %d buckets, want 1 to %d (64 per power of two)", lo, hi, n, maxHistBuckets)
	}
	return b + 1, n, nil
}

// parseRange parses the tag option range=MIN:MAX with parse.
func parseRange(value string, parse func(string) (float64, error)) (lo, hi float64, err error) {
	a, b, ok := strings.Cut(value, ":")
	if ok {
		if lo, err = parse(a); err == nil {
			hi, err = parse(b)
		}
	}
	if !ok || err != nil {
		return 0, 0, modelError("range=%q: want MIN:MAX", value)
	}
	return lo, hi, nil
}

// histState is what a Histogram records. Recording touches a bucket, the
// sum, the sample ring and, rarely, the min and max: a few atomic adds and
// no locks.
type histState struct {
	// Read by every Observe, never written after creation.
	ring   []atomic.Uint64 // the latest samples; a power of two >= window
	counts []atomic.Uint64 // underflow, overflow, then the window's buckets
	window uint64          // how many samples the moving average takes
	lo, nb int32           // the window: buckets [lo, lo+nb)

	// Read by every Observe, written rarely: a cache line apart from the
	// counters that every Observe writes.
	min atomic.Uint64 // float64 bits; for values >= 0 bit order is value order
	max atomic.Uint64
	_   [cacheLine - 16]byte

	// Written by every Observe.
	n   atomic.Uint64 // samples recorded; also the next ring slot
	sum atomicFloat
	_   [cacheLine - 16]byte
}

// cacheLine is the size of a CPU cache line on amd64 and arm64.
const cacheLine = 64

func newHistState(window, lo, nb int) *histState {
	if window <= 0 {
		window = DefaultWindow
	}
	window = min(window, maxWindow)
	size := 1
	for size < window {
		size <<= 1 // a mask instead of a division on the hot path
	}
	st := &histState{ring: make([]atomic.Uint64, size), counts: make([]atomic.Uint64, nb+2),
		window: uint64(window), lo: int32(lo), nb: int32(nb)}
	st.min.Store(math.Float64bits(math.Inf(1)))
	return st
}

// observe records v.
func (st *histState) observe(v float64) {
	if v != v { // NaN: not a measurement
		return
	}
	if v < 0 {
		v = 0
	}
	bits := math.Float64bits(v)
	k := v1.Bucket6(bits) - int(st.lo)
	slot := k + 2
	if uint(k) >= uint(st.nb) { // outside the window: the underflow or overflow
		slot = 1
		if k < 0 {
			slot = 0
		}
	}
	st.counts[slot].Add(1)
	st.sum.add(v)
	for old := st.min.Load(); bits < old && !st.min.CompareAndSwap(old, bits); old = st.min.Load() {
	}
	for old := st.max.Load(); bits > old && !st.max.CompareAndSwap(old, bits); old = st.max.Load() {
	}
	// The ring slot is written after n is bumped: the moving average may
	// briefly miss the newest sample, never mix a stale slot with a count.
	i := st.n.Add(1) - 1
	st.ring[i&uint64(len(st.ring)-1)].Store(bits)
}

// last returns the latest sample recorded, or 0.
func (st *histState) last() float64 {
	n := st.n.Load()
	if n == 0 {
		return 0
	}
	return math.Float64frombits(st.ring[(n-1)&uint64(len(st.ring)-1)].Load())
}

// movingAverage is the mean of the latest samples in the ring.
func (st *histState) movingAverage() float64 {
	n := st.n.Load()
	k := min(n, st.window)
	if k == 0 {
		return 0
	}
	var sum float64
	mask := uint64(len(st.ring) - 1)
	for i := n - k; i < n; i++ {
		sum += math.Float64frombits(st.ring[i&mask].Load())
	}
	return sum / float64(k)
}

// extremes returns the min and max recorded, or 0, 0 before any sample.
func (st *histState) extremes() (lo, hi float64) {
	if st.n.Load() == 0 {
		return 0, 0
	}
	return math.Float64frombits(st.min.Load()), math.Float64frombits(st.max.Load())
}

// quantile estimates the q-quantile from the counts in memory, by the
// rule of v1.Quantiles (which the published percentiles follow), without
// allocating. Counts only grow, so the second pass reaches the rank the
// first one computed.
func (st *histState) quantile(q float64) float64 {
	var n uint64
	for k := range st.counts {
		n += st.counts[k].Load()
	}
	if n == 0 {
		return 0
	}
	r := v1.Rank(q, n)
	lo, hi := st.extremes()
	cum := st.counts[0].Load()
	if cum >= r {
		return lo
	}
	for k := 2; k < len(st.counts); k++ {
		if cum += st.counts[k].Load(); cum >= r {
			return math.Min(math.Max(v1.BucketMid(v1.Schema, int(st.lo)+k-2), lo), hi)
		}
	}
	return hi
}

// Histogram records a distribution of values, such as latencies or sizes,
// and publishes next to its label:
//
//	label         the moving average of the last Window values, as Python's TimerField
//	label.count   values recorded (a counter), and in its pad bytes the
//	              bucket counts, which readers merge across processes
//	label.sum     their sum (a counter)
//	label.min     the smallest and largest value
//	label.max
//	label.p50     percentiles, within 1% of the exact value
//	label.p90
//	label.p99
//	label.p999
//	label.avg10s  per time window (Windows): the mean of the values and
//	label.rate10s the values per second over the last 10 s, and so on
//
// Observe is lock-free and does not allocate. The stats are computed and
// published together, as one consistent group, every
// Options.RefreshInterval (default 1 s) and on File.Refresh and Close.
// Values below 0 count as 0; NaN is ignored.
//
// The buckets resolve the values in (Min, Max] to 0.54%; values at or
// below Min and above Max are counted apart, and a percentile that lands
// among them reports the min or the max recorded.
//
// Memory: a Histogram holds its counts, 8 bytes per bucket and 16 more
// (15.0 KiB at the default range of 1920 buckets; the heap rounds it to
// 16 KiB), its sample ring (8 bytes per Window value, rounded up to a
// power of two: 1 KiB by default) and, once in a file, the history of its
// time windows (5 KiB) and its stats' layout: measured, 17 KiB before it
// is in a file and 24 KiB in one (it was 65 KiB, and Quantile allocated
// 32 KiB a call). In the file it takes 15,376 bytes of counts (in
// the pad bytes of .count) and its 13 stats (9 without time windows): for
// a label of 24 bytes, 16,128 bytes with the default windows and 15,904
// without (TestHistogramFileBytes).
type Histogram struct {
	claimFlag
	// Window is how many of the latest values the main stat averages;
	// 0 means DefaultWindow. Struct tag: window=N.
	Window int
	// Windows are the time windows of the .avg and .rate stats; nil means
	// DefaultWindows, an empty slice none. Struct tag: windows=10s|1m or
	// windows=none.
	Windows []time.Duration
	// Min and Max are the range of values the buckets resolve; 0 means
	// the default of the unit (WithUnit): 2^-22 s to 256 s in seconds,
	// 1 to 2^30 in bytes, 2^-10 to 2^20 otherwise, 64 buckets per power
	// of two, at most 64 powers of two. Struct tag: range=MIN:MAX.
	//
	// Window, Min and Max are read on the first Observe or when the field
	// is added to a file, whichever comes first (before a file, with no
	// unit); changing them later has no effect.
	Min, Max float64

	state atomic.Pointer[histState]
	pub   *histPublisher // set by bindParts; used by the refresher only
}

// load returns the state, allocating it on first use. It is small enough
// to be inlined into Observe.
func (h *Histogram) load() *histState {
	if st := h.state.Load(); st != nil {
		return st
	}
	return h.initOwn()
}

// initOwn allocates the state with the Histogram's own settings. It
// stays out of line, so that load inlines.
//
//go:noinline
func (h *Histogram) initOwn() *histState { return h.init(h.Window, h.Min, h.Max, "") }

// init allocates the state with the given window and range (the default
// range of unit if that one is invalid: the error shows when the field is
// added), unless another goroutine did first.
func (h *Histogram) init(window int, lo, hi float64, unit string) *histState {
	first, n, err := histWindow(lo, hi, unit)
	if err != nil {
		first, n, _ = histWindow(0, 0, unit)
	}
	st := newHistState(window, first, n)
	if !h.state.CompareAndSwap(nil, st) {
		return h.state.Load()
	}
	return st
}

// Observe records a value.
func (h *Histogram) Observe(v float64) { h.load().observe(v) }

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.load().n.Load() }

// Sum returns the sum of the values recorded.
func (h *Histogram) Sum() float64 { return h.load().sum.load() }

// Quantile estimates the q-quantile (0 < q <= 1) of the values recorded,
// within 1% of the exact value, as the published percentiles do. It
// scans every bucket (a few microseconds) and does not allocate.
func (h *Histogram) Quantile(q float64) float64 { return h.load().quantile(q) }

// Value returns the moving average of the last Window values.
func (h *Histogram) Value() float64 { return h.load().movingAverage() }

func (h *Histogram) setOption(key, value string) error {
	switch key {
	case "window":
		n, err := positiveOption(key, value, maxWindow)
		h.Window = n
		return err
	case "windows":
		ws, err := parseWindows(value)
		h.Windows = ws
		return err
	case "range":
		lo, hi, err := parseRange(value, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
		h.Min, h.Max = lo, hi
		return err
	}
	return modelError("Histogram takes window=N, windows=D|D and range=MIN:MAX, not %s", key)
}

// windowsOr returns the time windows in use.
func windowsOr(ws []time.Duration) []time.Duration {
	if ws == nil {
		return DefaultWindows
	}
	return ws
}

// histOptions checks the options of a Histogram or Timer (of type name).
func histOptions(name string, o fieldOptions) error {
	if o.kind != reader.KindUnknown {
		return modelError("a %s's kinds are fixed (gauges, and counters for .count and .sum): it takes no kind", name)
	}
	if o.aggr != reader.AggrDefault {
		return modelError("a %s's aggregations are fixed (sums, min, max, and percentiles from the merged buckets): it takes none", name)
	}
	return nil
}

func (h *Histogram) parts(o fieldOptions) ([]part, error) {
	if err := histOptions("Histogram", o); err != nil {
		return nil, err
	}
	if _, _, err := histWindow(h.Min, h.Max, o.unit); err != nil {
		return nil, err
	}
	st := h.state.Load()
	if st == nil {
		st = h.init(h.Window, h.Min, h.Max, o.unit)
	}
	return histParts(o.unit, windowsOr(h.Windows), st)
}

// histParts lists the stats of a histogram whose values are in unit, and
// whose buckets are st's.
func histParts(unit string, windows []time.Duration, st *histState) ([]part, error) {
	if err := checkWindows(windows); err != nil {
		return nil, err
	}
	gauge := func(a Aggregation) reader.Meta {
		return reader.Meta{Kind: reader.KindGauge, Unit: unit, Aggregation: a}
	}
	desc, ok := v1.EncodeDesc(v1.Desc{Schema: v1.Schema, Lo: int(st.lo), N: int(st.nb)})
	if !ok {
		return nil, modelError("histogram window [%d, %d) out of range", st.lo, st.lo+st.nb)
	}
	pad := v1.PadSize(int(st.nb))
	count := spec{code: "Q" + strconv.Itoa(pad) + "x", size: 8 + pad, align: 8, desc: desc[:]}
	ps := []part{
		{suffix: "", spec: doubleSpec, meta: gauge(reader.AggrWeightedAvg)},
		{suffix: ".count", spec: count, meta: reader.Meta{Kind: reader.KindCounter, Aggregation: Sum}},
		{suffix: ".sum", spec: doubleSpec, meta: reader.Meta{Kind: reader.KindCounter, Unit: unit, Aggregation: Sum}},
		{suffix: ".min", spec: doubleSpec, meta: gauge(Min)},
		{suffix: ".max", spec: doubleSpec, meta: gauge(Max)},
	}
	for _, q := range histQuantiles {
		ps = append(ps, part{suffix: q.suffix, spec: doubleSpec, meta: gauge(reader.AggrQuantile)})
	}
	return append(ps, windowParts(windows, true, unit)...), nil
}

func (h *Histogram) initialParts([]byte, []placement) {}

func (h *Histogram) bindParts(f *File, mem []byte, ps []placement) {
	h.pub = newHistPublisher(h.state.Load(), windowsOr(h.Windows), f.opts.RefreshInterval, mem, ps)
	f.addRefresher(h.pub)
}

// histPublisher computes and publishes a histogram's stats; it runs in
// the File's refresher only.
type histPublisher struct {
	st      *histState
	windows []time.Duration
	hist    *history
	g       *group
	region  []uint64 // the pad bytes of .count: underflow, overflow, buckets
	qs, qv  []float64
	values  []uint64
}

func newHistPublisher(st *histState, windows []time.Duration, interval time.Duration, mem []byte, ps []placement) *histPublisher {
	g := newGroup(mem, ps)
	p := &histPublisher{st: st, windows: windows, hist: newHistory(windows, interval), g: g,
		region: words64(mem, ps[1].value+8, len(st.counts)), values: make([]uint64, len(g.words))}
	for _, q := range histQuantiles {
		p.qs = append(p.qs, q.q)
	}
	p.qv = make([]float64, len(p.qs))
	return p
}

// refresh publishes the stats and the bucket counts as one group update:
// .count is the sum of the counts published with it, and the percentiles
// are computed from them, so a reader's snapshot agrees with itself.
func (p *histPublisher) refresh(now time.Time) {
	st := p.st
	sum := st.sum.load()
	lo, hi := st.extremes()
	p.g.begin()
	var n uint64
	for k := range st.counts {
		c := st.counts[k].Load()
		atomic.StoreUint64(&p.region[k], c)
		n += c
	}
	// The region is written by this goroutine only: plain loads suffice.
	v1.Quantiles(v1.Schema, int(st.lo), p.region[0], p.region[2:], p.region[1], lo, hi, p.qs, p.qv)
	v := append(p.values[:0], f64(st.movingAverage()), n, f64(sum), f64(lo), f64(hi))
	for _, q := range p.qv {
		v = append(v, f64(q))
	}
	cur := sample{at: now, count: n, sum: sum}
	for _, w := range p.windows {
		rate, mean := p.hist.rate(cur, w)
		v = append(v, f64(mean), f64(rate))
	}
	p.g.store(v)
	p.g.end()
	p.hist.add(cur)
	p.values = v
}
