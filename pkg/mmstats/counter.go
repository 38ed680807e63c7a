package mmstats

import "sync/atomic"

// Counter is a 64-bit unsigned counter (Python's CounterField, type "Q").
// Incrementing it is one atomic add on the mapped file.
type Counter struct{ cell64 }

func (*Counter) spec() spec { return spec{code: "Q", size: 8} }

// Incr adds one to the counter.
func (c *Counter) Incr() { atomic.AddUint64(c.ptr(), 1) }

// Add adds n to the counter; it wraps at 2^64.
func (c *Counter) Add(n uint64) { atomic.AddUint64(c.ptr(), n) }

// Set replaces the counter's value.
func (c *Counter) Set(n uint64) { atomic.StoreUint64(c.ptr(), n) }

// Value returns the counter's value.
func (c *Counter) Value() uint64 { return atomic.LoadUint64(c.ptr()) }
