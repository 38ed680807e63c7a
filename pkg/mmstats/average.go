package mmstats

import (
	"github.com/mmstats/mmstats/pkg/reader"
	"math"
	"sync/atomic"
)

// snapshotter computes a derived value from a field's recorded samples.
// ok is false when a recorder is still in flight; that recorder publishes
// after it finishes.
type snapshotter interface {
	snapshot() (v float64, ok bool)
}

// publisher publishes a derived value (a mean) after every sample without
// making recorders wait for each other.
//
// A recorder updates its field's state, then calls publish: it bumps dirty
// and tries to take the token with one CAS. The holder takes a consistent
// snapshot, stores it, releases the token, and goes round again if dirty
// moved meanwhile: a recorder that found the token taken has then left its
// sample for the holder. A recorder that arrives after the holder's last
// look at dirty finds the token free and publishes itself. So the last
// sample is always published, and no recorder ever blocks.
type publisher struct {
	dirty atomic.Uint64
	token atomic.Uint32
}

func (p *publisher) publish(s snapshotter, out *uint64) {
	p.dirty.Add(1)
	for p.token.CompareAndSwap(0, 1) {
		seen := p.dirty.Load()
		if v, ok := s.snapshot(); ok {
			atomic.StoreUint64(out, math.Float64bits(v))
		}
		p.token.Store(0)
		if p.dirty.Load() == seen {
			return
		}
	}
}

// atomicFloat is a float64 with an atomic Add.
type atomicFloat struct{ bits atomic.Uint64 }

func (f *atomicFloat) add(v float64) {
	for {
		old := f.bits.Load()
		if f.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func (f *atomicFloat) load() float64 { return math.Float64frombits(f.bits.Load()) }

// Average is the running mean of every value added (Python's AverageField,
// type "d"). Add is lock-free.
type Average struct {
	cell64
	started atomic.Uint64 // samples begun
	count   atomic.Uint64 // samples finished
	sum     atomicFloat
	pub     publisher
}

func (*Average) spec() spec {
	return spec{code: "d", size: 8, kind: reader.KindGauge, aggr: Avg, merge: mergeSet}
}

// Observe adds a sample and publishes the new mean.
func (a *Average) Observe(v float64) {
	a.started.Add(1)
	a.sum.add(v)
	a.count.Add(1)
	a.pub.publish(a, a.ptr())
}

// snapshot reads count, sum, then started: if no sample began between the
// two counts, the sum holds exactly count samples.
func (a *Average) snapshot() (float64, bool) {
	n := a.count.Load()
	s := a.sum.load()
	if a.started.Load() != n || n == 0 {
		return 0, false
	}
	return s / float64(n), true
}

// Value returns the published mean (0 before the first sample).
func (a *Average) Value() float64 { return math.Float64frombits(atomic.LoadUint64(a.ptr())) }

// DefaultWindow is the window of a MovingAverage or Timer whose Window is 0.
const DefaultWindow = 100

// maxWindow bounds Window, so a struct tag cannot ask for gigabytes.
const maxWindow = 1 << 20

// MovingAverage is the mean of the last Window values added (Python's
// MovingAverageField, type "d"). Add is lock-free.
type MovingAverage struct {
	cell64
	// Window is how many of the latest values are averaged; 0 means
	// DefaultWindow. It is read on the first Add or when the field is
	// added to a file, whichever comes first. Struct tag: window=N.
	Window int

	ring    atomic.Pointer[[]atomic.Uint64] // float64 bits of the samples
	claimed atomic.Uint64                   // samples that took a slot
	stored  atomic.Uint64                   // samples written to their slot
	pub     publisher

	// Used only by the publisher token's holder.
	sum       float64
	seen      []float64 // the slot values that sum adds up
	summed    uint64    // samples accounted for in sum
	sinceFull int       // incremental updates since the last full sum
}

func (*MovingAverage) spec() spec {
	return spec{code: "d", size: 8, kind: reader.KindGauge, aggr: Avg, merge: mergeSet}
}

func (m *MovingAverage) setOption(key, value string) error {
	if key != "window" {
		return modelError("MovingAverage takes window=N, not %s", key)
	}
	n, err := positiveOption(key, value, maxWindow)
	m.Window = n
	return err
}

func (m *MovingAverage) bind(mem []byte, p placement) {
	m.slots(m.Window)
	m.cell64.bind(mem, p)
}

// slots returns the ring, allocating it with n slots on first use.
func (m *MovingAverage) slots(n int) []atomic.Uint64 {
	if r := m.ring.Load(); r != nil {
		return *r
	}
	if n <= 0 {
		n = DefaultWindow
	}
	if n > maxWindow {
		n = maxWindow
	}
	r := make([]atomic.Uint64, n)
	if !m.ring.CompareAndSwap(nil, &r) {
		return *m.ring.Load()
	}
	return r
}

// Observe adds a sample and publishes the new moving average.
func (m *MovingAverage) Observe(v float64) { m.add(v, m.Window) }

// add adds a sample; window sizes the ring if this is its first use.
func (m *MovingAverage) add(v float64, window int) {
	ring := m.slots(window)
	i := m.claimed.Add(1) - 1
	ring[i%uint64(len(ring))].Store(math.Float64bits(v))
	m.stored.Add(1)
	m.pub.publish(m, m.ptr())
}

// snapshot brings the running sum up to date with the slots written since
// the last snapshot, and recomputes it from scratch once per window of
// updates so that rounding errors cannot build up.
func (m *MovingAverage) snapshot() (float64, bool) {
	ring := *m.ring.Load() // allocated by the Add that got here
	size := uint64(len(ring))
	n := m.stored.Load()
	if m.claimed.Load() != n || n == 0 {
		return 0, false
	}
	if m.seen == nil {
		m.seen = make([]float64, size)
	}
	if n-m.summed >= size || m.sinceFull >= int(size) {
		m.sum = 0
		for k := range ring {
			m.seen[k] = math.Float64frombits(ring[k].Load())
			m.sum += m.seen[k]
		}
		m.sinceFull = 0
	} else {
		for j := m.summed; j < n; j++ {
			k := j % size
			v := math.Float64frombits(ring[k].Load())
			m.sum += v - m.seen[k]
			m.seen[k] = v
			m.sinceFull++
		}
	}
	m.summed = n
	return m.sum / float64(min(n, size)), true
}

// Value returns the published moving average (0 before the first sample).
func (m *MovingAverage) Value() float64 {
	return math.Float64frombits(atomic.LoadUint64(m.ptr()))
}
