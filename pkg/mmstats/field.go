package mmstats

import (
	"strconv"
	"sync/atomic"
)

// Field is a stat that can live in a File: one of this package's field
// types (Counter, Double, String, ...). Add one to a file with File.Add, or
// declare several as the fields of a struct and pass it to New or
// File.Register. A field lives in one file at most. Its methods are safe
// for concurrent use, and before it is added to a file it keeps its value
// in memory, so the zero value of every field type is ready to use.
type Field interface {
	// spec says how the field is stored.
	spec() spec
	// claim marks the field as added, reporting false if it already was.
	claim() bool
	// unclaim undoes claim when adding fails.
	unclaim()
	// initial writes the current value into the file before the field
	// becomes visible to readers.
	initial(mem []byte, p placement)
	// bind makes the field write to the file from now on.
	bind(mem []byte, p placement)
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

// cell64 is an 8-byte value: in memory until bound, then in the file.
type cell64 struct {
	claimFlag
	addr  atomic.Pointer[uint64]
	local uint64
}

// ptr returns where the value lives now.
func (c *cell64) ptr() *uint64 {
	if p := c.addr.Load(); p != nil {
		return p
	}
	return &c.local
}

func (c *cell64) initial(mem []byte, p placement) {
	atomic.StoreUint64(word64(mem, p.value), atomic.LoadUint64(&c.local))
}

func (c *cell64) bind(mem []byte, p placement) {
	w := word64(mem, p.value)
	atomic.StoreUint64(w, atomic.LoadUint64(&c.local)) // updates made since initial
	c.addr.Store(w)
}

// cell32 is a 4-byte value: in memory until bound, then in the file.
type cell32 struct {
	claimFlag
	addr  atomic.Pointer[uint32]
	local uint32
}

func (c *cell32) ptr() *uint32 {
	if p := c.addr.Load(); p != nil {
		return p
	}
	return &c.local
}

func (c *cell32) initial(mem []byte, p placement) {
	atomic.StoreUint32(word32(mem, p.value), atomic.LoadUint32(&c.local))
}

func (c *cell32) bind(mem []byte, p placement) {
	w := word32(mem, p.value)
	atomic.StoreUint32(w, atomic.LoadUint32(&c.local))
	c.addr.Store(w)
}

// cellSub is a 1- or 2-byte value inside an aligned 4-byte word of the
// file; the other bytes of that word belong to the field's header and
// never change, so whole-word atomics are safe.
type cellSub struct {
	claimFlag
	addr  atomic.Pointer[uint32]
	shift uint8  // written before addr is published, read after loading it
	local uint32 // the value, in the low bits, until bound
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
	s.store(atomic.LoadUint32(&c.local))
}

func (c *cellSub) bindN(mem []byte, p placement, n int) {
	s := subwordAt(mem, p.value, n)
	s.store(atomic.LoadUint32(&c.local))
	c.shift = s.shift
	c.addr.Store(s.word)
}

// positiveOption parses a tag option that must be a positive integer.
func positiveOption(key, value string, max int) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n <= 0 || n > max {
		return 0, modelError("option %s=%q: want an integer in [1, %d]", key, value, max)
	}
	return n, nil
}
