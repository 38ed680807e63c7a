package mmstats

import (
	"github.com/mmstats/mmstats/internal/v1"
	"strconv"
	"sync/atomic"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Field is a stat that can live in a File: one of this package's field
// types (Counter, Float64, String, Histogram, ...). Add one to a file with
// File.Add, or declare several as the fields of a struct and pass it to New
// or File.Register. A field lives in one file at most. Its methods are safe
// for concurrent use, and before it is added to a file it keeps its value
// in memory, so the zero value of every field type is ready to use.
//
// Most types are one stat in the file. A Histogram or Timer, and a Counter
// with time windows, publish several stats next to their label (such as
// "latency.p99" and "requests.rate1m") as one group that readers see
// consistently.
type Field interface {
	// claim marks the field as added, reporting false if it already was.
	claim() bool
	// unclaim undoes claim when adding fails.
	unclaim()
}

// simple is a Field stored as one v1 field.
type simple interface {
	Field
	// spec says how the field is stored.
	spec() spec
	// initial writes the current value into the file before the field
	// becomes visible to readers.
	initial(mem []byte, p placement)
	// bind makes the field write to the file from now on.
	bind(mem []byte, p placement)
}

// composite is a Field stored as one or more v1 fields: a main part and
// derived parts that a refresher publishes as a group.
type composite interface {
	Field
	// parts lists the v1 fields, the main one first.
	parts(o fieldOptions) ([]part, error)
	// initialParts writes the current values before the parts are visible.
	initialParts(mem []byte, ps []placement)
	// bindParts makes the field write to the file from now on; a field
	// with derived parts registers its refresher with f.addRefresher.
	bindParts(f *File, mem []byte, ps []placement)
}

// part is one v1 field of a Field.
type part struct {
	suffix string // appended to the field's label: "" for the main part
	spec   spec
	meta   reader.Meta
}

// Kind says what a field's number means to the tools: pollstats shows the
// change of a counter and the value of a gauge, mmash and slurpstats -o
// prometheus emit it as the Prometheus type, slurpstats --human prints a
// timestamp as a date. Every field type has a default kind; WithKind and
// the struct tag kind=... change it.
type Kind = reader.Kind

// The kinds a field can have.
const (
	KindCounter   = reader.KindCounter   // only goes up
	KindGauge     = reader.KindGauge     // a current value
	KindTimestamp = reader.KindTimestamp // seconds since the UNIX epoch
	KindInfo      = reader.KindInfo      // a fact, such as a PID or a version
)

// fieldOptions are the per-field settings of File.Add and the struct tags.
type fieldOptions struct {
	kind    reader.Kind // KindUnknown: the type's default
	unit    string
	unitSet bool
	aggr    Aggregation // AggrDefault: the type's default
}

// AddOption changes how File.Add publishes a field.
type AddOption func(*fieldOptions) error

// WithKind sets the kind of a field that is one stat. On a Counter with
// Windows it sets the counter's, not its rates'; a Histogram or Timer,
// whose stats have fixed kinds, refuses it with an error.
func WithKind(k Kind) AddOption {
	return func(o *fieldOptions) error {
		if k.String() == "" {
			return modelError("unknown kind %d", k)
		}
		o.kind = k
		return nil
	}
}

// WithUnit sets the unit of a field's values (seconds, bytes, ratio,
// percent, meters, grams, celsius, volts, amperes, joules, hertz, bits,
// watts or kelvin); for a Histogram it applies to every stat that
// holds a value (not to counts and rates). A Timer is always in seconds:
// any other unit is an error.
func WithUnit(unit string) AddOption {
	return func(o *fieldOptions) error {
		if _, ok := v1.UnitIndex(unit); !ok {
			return modelError("unknown unit %q (known: %v)", unit, v1.Units()[1:])
		}
		o.unit, o.unitSet = unit, true
		return nil
	}
}

// metaOf applies the options to a simple field's defaults.
func (o fieldOptions) metaOf(s spec) reader.Meta {
	m := reader.Meta{Kind: s.kind, Unit: s.unit}
	if o.kind != reader.KindUnknown {
		m.Kind = o.kind
	}
	if o.unitSet {
		m.Unit = o.unit
	}
	m.Aggregation = o.aggr
	if m.Aggregation == reader.AggrDefault {
		m.Aggregation = defaultAggregation(m.Kind, s.aggr)
	}
	return m
}

// tagOption applies a struct tag option that every field takes: kind=...,
// unit=... or aggr=.... It reports false for other keys.
func (o *fieldOptions) tagOption(key, value string) (bool, error) {
	switch key {
	case "kind":
		k, ok := reader.ParseKind(value)
		if !ok {
			return true, modelError("unknown kind %q (want counter, gauge, timestamp or info)", value)
		}
		o.kind = k
		return true, nil
	case "unit":
		return true, WithUnit(value)(o)
	case "aggr":
		a, ok := reader.ParseAggregation(value)
		if !ok {
			return true, modelError("unknown aggregation %q (want sum, max, min, avg, latest or none)", value)
		}
		return true, WithAggregation(a)(o)
	}
	return false, nil
}

// optionSetter is implemented by fields that take struct tag options such
// as size=32 or window=10.
type optionSetter interface {
	setOption(key, value string) error
}

// claimFlag is the "already added" flag of a field.
type claimFlag struct{ added atomic.Bool }

func (c *claimFlag) claim() bool { return c.added.CompareAndSwap(false, true) }
func (c *claimFlag) unclaim()    { c.added.Store(false) }

// A cell is a value of up to 8 bytes: in memory (local) until its field
// is added to a file, then in the file. Binding switches the pointer
// first and then drains what was counted in memory since the value was
// copied into the file (as x/telemetry's counters do): a goroutine that
// loaded the old pointer just before the switch still updates local, and
// the File drains such stragglers again at every refresh and at Close
// (drain), so that no update is ever lost.
//
// base is local's value as last carried into the file; only the File
// touches it, under its locks (initial and bind under mu, drain under
// rmu).

// drainer is a bound field whose in-memory cell may still receive
// straggling updates.
type drainer interface{ drain() }

// cell64 is an 8-byte value: in memory until bound, then in the file.
type cell64 struct {
	claimFlag
	addr  atomic.Pointer[uint64]
	local uint64
	base  uint64
	rule  mergeRule
}

// ptr returns where the value lives now.
func (c *cell64) ptr() *uint64 {
	if p := c.addr.Load(); p != nil {
		return p
	}
	return &c.local
}

func (c *cell64) initial(mem []byte, p placement) {
	c.base, c.rule = atomic.LoadUint64(&c.local), p.merge
	atomic.StoreUint64(word64(mem, p.value), c.base)
}

func (c *cell64) bind(mem []byte, p placement) {
	c.addr.Store(word64(mem, p.value))
	c.drain()
}

func (c *cell64) drain() {
	now := atomic.LoadUint64(&c.local)
	merge64(c.rule, c.addr.Load(), c.base, now)
	c.base = now
}

// cell32 is a 4-byte value: in memory until bound, then in the file.
type cell32 struct {
	claimFlag
	addr  atomic.Pointer[uint32]
	local uint32
	base  uint32
	rule  mergeRule
}

func (c *cell32) ptr() *uint32 {
	if p := c.addr.Load(); p != nil {
		return p
	}
	return &c.local
}

func (c *cell32) initial(mem []byte, p placement) {
	c.base, c.rule = atomic.LoadUint32(&c.local), p.merge
	atomic.StoreUint32(word32(mem, p.value), c.base)
}

func (c *cell32) bind(mem []byte, p placement) {
	c.addr.Store(word32(mem, p.value))
	c.drain()
}

func (c *cell32) drain() {
	now := atomic.LoadUint32(&c.local)
	merge32(c.rule, c.addr.Load(), c.base, now)
	c.base = now
}

// cellSub is a 1- or 2-byte value inside an aligned 4-byte word of the
// file; the other bytes of that word belong to the field's header and
// never change, so whole-word atomics are safe.
type cellSub struct {
	claimFlag
	addr  atomic.Pointer[uint32]
	shift uint8  // written before addr is published, read after loading it
	mask  uint32 // likewise
	local uint32 // the value, in the low bits, until bound
	base  uint32
}

// sub returns the word and bit position of the value now.
func (c *cellSub) sub(mask uint32) subword {
	if p := c.addr.Load(); p != nil {
		return subword{word: p, shift: c.shift, mask: mask}
	}
	return subword{word: &c.local, mask: mask}
}

func (c *cellSub) initialN(mem []byte, p placement, n int) {
	s := subwordAt(mem, p.value, n)
	c.base = atomic.LoadUint32(&c.local) & s.mask
	s.store(c.base)
}

func (c *cellSub) bindN(mem []byte, p placement, n int) {
	s := subwordAt(mem, p.value, n)
	c.shift, c.mask = s.shift, s.mask
	c.addr.Store(s.word)
	c.drain()
}

func (c *cellSub) drain() {
	now := atomic.LoadUint32(&c.local) & c.mask
	mergeSub(subword{word: c.addr.Load(), shift: c.shift, mask: c.mask}, c.base, now)
	c.base = now
}

// positiveOption parses a tag option that must be a positive integer.
func positiveOption(key, value string, max int) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n <= 0 || n > max {
		return 0, modelError("option %s=%q: want an integer in [1, %d]", key, value, max)
	}
	return n, nil
}
