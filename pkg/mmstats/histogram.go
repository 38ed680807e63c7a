package mmstats

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/mmstats/mmstats/pkg/reader"
)

// The buckets of a Histogram are log-linear, in the spirit of
// HdrHistogram: each power of two from 2^histMinExp to 2^histMaxExp is cut
// into histSub equal sub-buckets, so a bucket spans 1/64 of its lower
// bound and its midpoint is within 0.78% of every value in it. The bucket
// of a value comes straight from the bits of its float64: exponent and top
// mantissa bits, a shift and a mask. Bucket 0 holds zero and values below
// 2^histMinExp (about 2.3e-10), the last one values from 2^histMaxExp
// (about 4.3e9) up; percentiles that land there report the min or max.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histMinExp  = -32
	histMaxExp  = 32
	histBuckets = (histMaxExp-histMinExp)*histSub + 2
)

// histQuantiles are the percentiles a Histogram publishes, with the
// suffixes of their stats.
var histQuantiles = []struct {
	q      float64
	suffix string
}{{0.5, ".p50"}, {0.9, ".p90"}, {0.99, ".p99"}, {0.999, ".p999"}}

// bucketOf returns the bucket of a value >= 0, given as its float64 bits.
func bucketOf(bits uint64) int {
	exp := int(bits>>52&0x7ff) - 1023
	switch {
	case exp < histMinExp:
		return 0
	case exp >= histMaxExp:
		return histBuckets - 1
	}
	return 1 + (exp-histMinExp)<<histSubBits + int(bits>>(52-histSubBits)&(histSub-1))
}

// bucketMid returns the midpoint of a bucket other than the first and last.
func bucketMid(i int) float64 {
	exp := (i-1)>>histSubBits + histMinExp
	m := float64((i-1)&(histSub-1)) + 0.5
	return math.Ldexp(1+m/histSub, exp)
}

// histState is what a Histogram records. Recording touches a bucket, the
// sum, the sample ring and, rarely, the min and max: a few atomic adds and
// no locks.
type histState struct {
	// Read by every Observe, written rarely: a cache line of their own,
	// so that the writes to n and sum by other cores do not evict them.
	ring   []atomic.Uint64 // the latest samples; a power of two >= window
	window uint64          // how many of them the moving average takes
	min    atomic.Uint64   // float64 bits; for values >= 0 bit order is value order
	max    atomic.Uint64
	_      [cacheLine - 48]byte

	// Written by every Observe.
	n   atomic.Uint64 // samples recorded; also the next ring slot
	sum atomicFloat
	_   [cacheLine - 16]byte

	buckets [histBuckets]atomic.Uint64
}

// cacheLine is the size of a CPU cache line on amd64 and arm64.
const cacheLine = 64

func newHistState(window int) *histState {
	if window <= 0 {
		window = DefaultWindow
	}
	window = min(window, maxWindow)
	size := 1
	for size < window {
		size <<= 1 // a mask instead of a division on the hot path
	}
	st := &histState{ring: make([]atomic.Uint64, size), window: uint64(window)}
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
	st.buckets[bucketOf(bits)].Add(1)
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

// quantiles estimates the quantiles qs (ascending) into out, from a copy of
// the bucket counts taken into counts. A quantile q is the value of rank
// ceil(q*n) in sorted order: the midpoint of its bucket, kept within
// [min, max].
func (st *histState) quantiles(qs []float64, out []float64, counts []uint64) {
	var total uint64
	for i := range st.buckets {
		counts[i] = st.buckets[i].Load()
		total += counts[i]
	}
	lo, hi := st.extremes()
	for j := range out {
		out[j] = 0
	}
	if total == 0 {
		return
	}
	var cum uint64
	j := 0
	for i, c := range counts {
		cum += c
		for j < len(qs) && cum >= rankOf(qs[j], total) {
			var v float64
			switch i {
			case 0:
				v = lo
			case histBuckets - 1:
				v = hi
			default:
				v = math.Min(math.Max(bucketMid(i), lo), hi)
			}
			out[j] = v
			j++
		}
		if j == len(qs) {
			return
		}
	}
}

// rankOf is the 1-based rank of quantile q among n samples.
func rankOf(q float64, n uint64) uint64 {
	r := uint64(math.Ceil(q * float64(n)))
	return min(max(r, 1), n)
}

// Histogram records a distribution of values, such as latencies or sizes,
// and publishes next to its label:
//
//	label         the moving average of the last Window values, as Python's TimerField
//	label.count   values recorded (a counter)
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
type Histogram struct {
	claimFlag
	// Window is how many of the latest values the main stat averages;
	// 0 means DefaultWindow. Struct tag: window=N.
	Window int
	// Windows are the time windows of the .avg and .rate stats; nil means
	// DefaultWindows, an empty slice none. Struct tag: windows=10s|1m or
	// windows=none.
	Windows []time.Duration

	state atomic.Pointer[histState]
	pub   *histPublisher // set by bindParts; used by the refresher only
}

// get returns the state, allocating it (with window ring slots) on first use.
func (h *Histogram) get(window int) *histState {
	if st := h.state.Load(); st != nil {
		return st
	}
	st := newHistState(window)
	if !h.state.CompareAndSwap(nil, st) {
		return h.state.Load()
	}
	return st
}

// Observe records a value.
func (h *Histogram) Observe(v float64) { h.get(h.Window).observe(v) }

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.get(h.Window).n.Load() }

// Sum returns the sum of the values recorded.
func (h *Histogram) Sum() float64 { return h.get(h.Window).sum.load() }

// Quantile estimates the q-quantile (0 < q <= 1) of the values recorded,
// within 1% of the exact value. It scans every bucket: use it for
// occasional reads, not in a hot loop.
func (h *Histogram) Quantile(q float64) float64 {
	out := make([]float64, 1)
	h.get(h.Window).quantiles([]float64{q}, out, make([]uint64, histBuckets))
	return out[0]
}

// Value returns the moving average of the last Window values.
func (h *Histogram) Value() float64 { return h.get(h.Window).movingAverage() }

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
	}
	return modelError("Histogram takes window=N and windows=D|D, not %s", key)
}

// windows returns the time windows in use.
func windowsOr(ws []time.Duration) []time.Duration {
	if ws == nil {
		return DefaultWindows
	}
	return ws
}

func (h *Histogram) parts(o fieldOptions) ([]part, error) {
	if o.kind != reader.KindUnknown {
		return nil, modelError("a Histogram's kinds are fixed (gauges, and counters for .count and .sum): it takes no kind")
	}
	return histParts(o.unit, windowsOr(h.Windows))
}

// histParts lists the stats of a histogram whose values are in unit.
func histParts(unit string, windows []time.Duration) ([]part, error) {
	if err := checkWindows(windows); err != nil {
		return nil, err
	}
	gauge := reader.Meta{Kind: reader.KindGauge, Unit: unit}
	ps := []part{
		{suffix: "", spec: doubleSpec, meta: gauge},
		{suffix: ".count", spec: spec{code: "Q", size: 8}, meta: reader.Meta{Kind: reader.KindCounter}},
		{suffix: ".sum", spec: doubleSpec, meta: reader.Meta{Kind: reader.KindCounter, Unit: unit}},
		{suffix: ".min", spec: doubleSpec, meta: gauge},
		{suffix: ".max", spec: doubleSpec, meta: gauge},
	}
	for _, q := range histQuantiles {
		ps = append(ps, part{suffix: q.suffix, spec: doubleSpec, meta: gauge})
	}
	return append(ps, windowParts(windows, true, unit)...), nil
}

func (h *Histogram) initialParts([]byte, []placement) {}

func (h *Histogram) bindParts(f *File, mem []byte, ps []placement) {
	h.pub = newHistPublisher(h.get(h.Window), windowsOr(h.Windows), f.opts.RefreshInterval, newGroup(mem, ps))
	f.addRefresher(h.pub)
}

// histPublisher computes and publishes a histogram's stats; it runs in
// the File's refresher only.
type histPublisher struct {
	st      *histState
	windows []time.Duration
	hist    *history
	g       *group
	counts  []uint64
	qs, qv  []float64
	values  []uint64
}

func newHistPublisher(st *histState, windows []time.Duration, interval time.Duration, g *group) *histPublisher {
	p := &histPublisher{st: st, windows: windows, hist: newHistory(windows, interval), g: g,
		counts: make([]uint64, histBuckets), values: make([]uint64, len(g.words))}
	for _, q := range histQuantiles {
		p.qs = append(p.qs, q.q)
	}
	p.qv = make([]float64, len(p.qs))
	return p
}

func (p *histPublisher) refresh(now time.Time) {
	st := p.st
	n := st.n.Load()
	sum := st.sum.load()
	lo, hi := st.extremes()
	st.quantiles(p.qs, p.qv, p.counts)
	v := append(p.values[:0], f64(st.movingAverage()), n, f64(sum), f64(lo), f64(hi))
	for _, q := range p.qv {
		v = append(v, f64(q))
	}
	cur := sample{at: now, count: n, sum: sum}
	for _, w := range p.windows {
		rate, mean := p.hist.rate(cur, w)
		v = append(v, f64(mean), f64(rate))
	}
	p.hist.add(cur)
	p.values = v
	p.g.publish(v)
}
