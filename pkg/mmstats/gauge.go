package mmstats

import (
	"github.com/mmstats/mmstats/pkg/reader"
	"math"
	"sync/atomic"
)

// UInt64 is a 64-bit unsigned gauge (Python's UInt64Field, type "Q").
type UInt64 struct{ cell64 }

func (*UInt64) spec() spec {
	return spec{code: "Q", size: 8, kind: reader.MetricGauge, merge: mergeAdd}
}

// Set replaces the value.
func (u *UInt64) Set(v uint64) { atomic.StoreUint64(u.ptr(), v) }

// Add adds delta to the value (wrapping).
func (u *UInt64) Add(delta uint64) { atomic.AddUint64(u.ptr(), delta) }

// Value returns the value.
func (u *UInt64) Value() uint64 { return atomic.LoadUint64(u.ptr()) }

// Int is a 32-bit signed gauge (Python's IntField, type "i").
type Int struct{ cell32 }

func (*Int) spec() spec { return spec{code: "i", size: 4, kind: reader.MetricGauge, merge: mergeAdd} }

// Set replaces the value.
func (i *Int) Set(v int32) { atomic.StoreUint32(i.ptr(), uint32(v)) }

// Add adds delta to the value (wrapping).
func (i *Int) Add(delta int32) { atomic.AddUint32(i.ptr(), uint32(delta)) }

// Value returns the value.
func (i *Int) Value() int32 { return int32(atomic.LoadUint32(i.ptr())) }

// UInt is a 32-bit unsigned gauge (Python's UIntField, type "I").
type UInt struct{ cell32 }

func (*UInt) spec() spec { return spec{code: "I", size: 4, kind: reader.MetricGauge, merge: mergeAdd} }

// Set replaces the value.
func (u *UInt) Set(v uint32) { atomic.StoreUint32(u.ptr(), v) }

// Add adds delta to the value (wrapping).
func (u *UInt) Add(delta uint32) { atomic.AddUint32(u.ptr(), delta) }

// Value returns the value.
func (u *UInt) Value() uint32 { return atomic.LoadUint32(u.ptr()) }

// Float is a 32-bit floating-point gauge (Python's FloatField, type "f").
type Float struct{ cell32 }

func (*Float) spec() spec { return spec{code: "f", size: 4, kind: reader.MetricGauge, merge: mergeSet} }

// Set replaces the value.
func (f *Float) Set(v float32) { atomic.StoreUint32(f.ptr(), math.Float32bits(v)) }

// Value returns the value.
func (f *Float) Value() float32 { return math.Float32frombits(atomic.LoadUint32(f.ptr())) }

// Double is a 64-bit floating-point gauge (Python's DoubleField, type "d").
type Double struct{ cell64 }

func (*Double) spec() spec {
	return spec{code: "d", size: 8, kind: reader.MetricGauge, merge: mergeAddFloat}
}

// Set replaces the value.
func (d *Double) Set(v float64) { atomic.StoreUint64(d.ptr(), math.Float64bits(v)) }

// Add adds delta to the value.
func (d *Double) Add(delta float64) {
	p := d.ptr()
	for {
		old := atomic.LoadUint64(p)
		n := math.Float64bits(math.Float64frombits(old) + delta)
		if atomic.CompareAndSwapUint64(p, old, n) {
			return
		}
	}
}

// Value returns the value.
func (d *Double) Value() float64 { return math.Float64frombits(atomic.LoadUint64(d.ptr())) }

// Short is a 16-bit signed gauge (Python's ShortField, type "h").
type Short struct{ cellSub }

func (*Short) spec() spec                        { return spec{code: "h", size: 2, kind: reader.MetricGauge, merge: mergeSet} }
func (s *Short) initial(mem []byte, p placement) { s.initialN(mem, p, 2) }
func (s *Short) bind(mem []byte, p placement)    { s.bindN(mem, p, 2) }

// Set replaces the value.
func (s *Short) Set(v int16) { s.sub(0xffff).store(uint32(uint16(v))) }

// Value returns the value.
func (s *Short) Value() int16 { return int16(s.sub(0xffff).load()) }

// UShort is a 16-bit unsigned gauge (Python's UShortField, type "H").
type UShort struct{ cellSub }

func (*UShort) spec() spec {
	return spec{code: "H", size: 2, kind: reader.MetricGauge, merge: mergeSet}
}
func (s *UShort) initial(mem []byte, p placement) { s.initialN(mem, p, 2) }
func (s *UShort) bind(mem []byte, p placement)    { s.bindN(mem, p, 2) }

// Set replaces the value.
func (s *UShort) Set(v uint16) { s.sub(0xffff).store(uint32(v)) }

// Value returns the value.
func (s *UShort) Value() uint16 { return uint16(s.sub(0xffff).load()) }

// Byte is an 8-bit signed gauge (Python's ByteField, type "b").
type Byte struct{ cellSub }

func (*Byte) spec() spec                        { return spec{code: "b", size: 1, kind: reader.MetricGauge, merge: mergeSet} }
func (b *Byte) initial(mem []byte, p placement) { b.initialN(mem, p, 1) }
func (b *Byte) bind(mem []byte, p placement)    { b.bindN(mem, p, 1) }

// Set replaces the value.
func (b *Byte) Set(v int8) { b.sub(0xff).store(uint32(uint8(v))) }

// Value returns the value.
func (b *Byte) Value() int8 { return int8(b.sub(0xff).load()) }

// Bool is a boolean (Python's BoolField, type "?"), stored as 0 or 1.
type Bool struct{ cellSub }

func (*Bool) spec() spec                        { return spec{code: "?", size: 1, kind: reader.MetricGauge, merge: mergeSet} }
func (b *Bool) initial(mem []byte, p placement) { b.initialN(mem, p, 1) }
func (b *Bool) bind(mem []byte, p placement)    { b.bindN(mem, p, 1) }

// Set sets the value: one atomic OR or AND on the mapped word.
func (b *Bool) Set(v bool) {
	s := b.sub(0xff)
	if v {
		s.setBits(1)
	} else {
		s.clearBits(0xff)
	}
}

// Value returns the value.
func (b *Bool) Value() bool { return b.sub(0xff).load() != 0 }
