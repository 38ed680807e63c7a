package mmstats

import (
	"sync/atomic"
	"time"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Counter is a 64-bit unsigned counter (Python's CounterField, type "Q").
// Incrementing it is one atomic add on the mapped file.
//
// With Windows, it also publishes its rate per time window as
// label.rate10s, label.rate1m and so on (events per second), computed by
// the File's refresher from the counter's value: the hot path does not
// change.
type Counter struct {
	cell64
	// Windows are the time windows of the .rate stats; nil or empty
	// means none. Struct tag: windows=10s|1m.
	Windows []time.Duration

	rates *counterRates // set by bindParts; used by the refresher only
}

func (c *Counter) parts(o fieldOptions) ([]part, error) {
	if err := checkWindows(c.Windows); err != nil {
		return nil, err
	}
	main := spec{code: "Q", size: 8, kind: reader.KindCounter, merge: mergeAdd}
	return append([]part{{spec: main, meta: o.metaOf(main)}}, windowParts(c.Windows, false, "")...), nil
}

func (c *Counter) setOption(key, value string) error {
	if key != "windows" {
		return modelError("Counter takes windows=D|D, not %s", key)
	}
	ws, err := parseWindows(value)
	c.Windows = ws
	return err
}

func (c *Counter) initialParts(mem []byte, ps []placement) { c.initial(mem, ps[0]) }

func (c *Counter) bindParts(f *File, mem []byte, ps []placement) {
	c.bind(mem, ps[0])
	if len(ps) > 1 {
		c.rates = &counterRates{c: c, windows: c.Windows, hist: newHistory(c.Windows, f.opts.RefreshInterval),
			g: newGroup(mem, ps, 0), values: make([]uint64, len(ps))}
		f.addRefresher(c.rates)
	}
}

// Inc adds one to the counter.
func (c *Counter) Inc() { atomic.AddUint64(c.ptr(), 1) }

// Add adds n to the counter; it wraps at 2^64.
func (c *Counter) Add(n uint64) { atomic.AddUint64(c.ptr(), n) }

// Set replaces the counter's value.
func (c *Counter) Set(n uint64) { atomic.StoreUint64(c.ptr(), n) }

// Value returns the counter's value.
func (c *Counter) Value() uint64 { return atomic.LoadUint64(c.ptr()) }

// counterRates publishes a counter's rates.
type counterRates struct {
	c       *Counter
	windows []time.Duration
	hist    *history
	g       *group
	values  []uint64
}

func (r *counterRates) refresh(now time.Time) {
	cur := sample{at: now, count: r.c.Value()}
	for i, w := range r.windows {
		rate, _ := r.hist.rate(cur, w)
		r.values[i+1] = f64(rate)
	}
	r.hist.add(cur)
	r.g.publish(r.values)
}
