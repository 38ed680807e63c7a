package mmstats

import (
	"github.com/mmstats/mmstats/pkg/reader"
	"math"
	"sync/atomic"
)

// Uint64 is a 64-bit unsigned gauge (Python's UInt64Field, type "Q").
type Uint64 struct{ cell64 }

func (*Uint64) spec() spec {
	return spec{code: "Q", size: 8, kind: reader.KindGauge, merge: mergeAdd}
}

// Set replaces the value.
func (u *Uint64) Set(v uint64) { atomic.StoreUint64(u.ptr(), v) }

// Add adds delta to the value (wrapping).
func (u *Uint64) Add(delta uint64) { atomic.AddUint64(u.ptr(), delta) }

// Value returns the value.
func (u *Uint64) Value() uint64 { return atomic.LoadUint64(u.ptr()) }

// Int32 is a 32-bit signed gauge (Python's IntField, type "i").
type Int32 struct{ cell32 }

func (*Int32) spec() spec { return spec{code: "i", size: 4, kind: reader.KindGauge, merge: mergeAdd} }

// Set replaces the value.
func (i *Int32) Set(v int32) { atomic.StoreUint32(i.ptr(), uint32(v)) }

// Add adds delta to the value (wrapping).
func (i *Int32) Add(delta int32) { atomic.AddUint32(i.ptr(), uint32(delta)) }

// Value returns the value.
func (i *Int32) Value() int32 { return int32(atomic.LoadUint32(i.ptr())) }

// Uint32 is a 32-bit unsigned gauge (Python's UIntField, type "I").
type Uint32 struct{ cell32 }

func (*Uint32) spec() spec { return spec{code: "I", size: 4, kind: reader.KindGauge, merge: mergeAdd} }

// Set replaces the value.
func (u *Uint32) Set(v uint32) { atomic.StoreUint32(u.ptr(), v) }

// Add adds delta to the value (wrapping).
func (u *Uint32) Add(delta uint32) { atomic.AddUint32(u.ptr(), delta) }

// Value returns the value.
func (u *Uint32) Value() uint32 { return atomic.LoadUint32(u.ptr()) }

// Float32 is a 32-bit floating-point gauge (Python's FloatField, type "f").
type Float32 struct{ cell32 }

func (*Float32) spec() spec { return spec{code: "f", size: 4, kind: reader.KindGauge, merge: mergeSet} }

// Set replaces the value.
func (f *Float32) Set(v float32) { atomic.StoreUint32(f.ptr(), math.Float32bits(v)) }

// Value returns the value.
func (f *Float32) Value() float32 { return math.Float32frombits(atomic.LoadUint32(f.ptr())) }

// Float64 is a 64-bit floating-point gauge (Python's DoubleField, type "d").
type Float64 struct{ cell64 }

func (*Float64) spec() spec {
	return spec{code: "d", size: 8, kind: reader.KindGauge, merge: mergeAddFloat}
}

// Set replaces the value.
func (d *Float64) Set(v float64) { atomic.StoreUint64(d.ptr(), math.Float64bits(v)) }

// Add adds delta to the value.
func (d *Float64) Add(delta float64) {
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
func (d *Float64) Value() float64 { return math.Float64frombits(atomic.LoadUint64(d.ptr())) }

// Int16 is a 16-bit signed gauge (Python's ShortField, type "h").
type Int16 struct{ cellSub }

func (*Int16) spec() spec                        { return spec{code: "h", size: 2, kind: reader.KindGauge, merge: mergeSet} }
func (s *Int16) initial(mem []byte, p placement) { s.initialN(mem, p, 2) }
func (s *Int16) bind(mem []byte, p placement)    { s.bindN(mem, p, 2) }

// Set replaces the value.
func (s *Int16) Set(v int16) { s.sub(0xffff).store(uint32(uint16(v))) }

// Value returns the value.
func (s *Int16) Value() int16 { return int16(s.sub(0xffff).load()) }

// Uint16 is a 16-bit unsigned gauge (Python's UShortField, type "H").
type Uint16 struct{ cellSub }

func (*Uint16) spec() spec {
	return spec{code: "H", size: 2, kind: reader.KindGauge, merge: mergeSet}
}
func (s *Uint16) initial(mem []byte, p placement) { s.initialN(mem, p, 2) }
func (s *Uint16) bind(mem []byte, p placement)    { s.bindN(mem, p, 2) }

// Set replaces the value.
func (s *Uint16) Set(v uint16) { s.sub(0xffff).store(uint32(v)) }

// Value returns the value.
func (s *Uint16) Value() uint16 { return uint16(s.sub(0xffff).load()) }

// Int8 is an 8-bit signed gauge (Python's ByteField, type "b").
type Int8 struct{ cellSub }

func (*Int8) spec() spec                        { return spec{code: "b", size: 1, kind: reader.KindGauge, merge: mergeSet} }
func (b *Int8) initial(mem []byte, p placement) { b.initialN(mem, p, 1) }
func (b *Int8) bind(mem []byte, p placement)    { b.bindN(mem, p, 1) }

// Set replaces the value.
func (b *Int8) Set(v int8) { b.sub(0xff).store(uint32(uint8(v))) }

// Value returns the value.
func (b *Int8) Value() int8 { return int8(b.sub(0xff).load()) }

// Bool is a boolean (Python's BoolField, type "?"), stored as 0 or 1.
type Bool struct{ cellSub }

func (*Bool) spec() spec                        { return spec{code: "?", size: 1, kind: reader.KindGauge, merge: mergeSet} }
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
