package mmstats

import (
	"encoding/binary"
	"github.com/mmstats/mmstats/pkg/reader"
	"math"
	"sync"
)

// static is the write-once part of the Static fields: the value is kept in
// memory and written when the field is added to a file; after that it is
// frozen. Static fields are written once, so a mutex is fine here.
type static struct {
	mu    sync.Mutex
	added bool
	bits  uint64 // the value for numeric fields
	text  string // the value for StaticText
}

func (s *static) claim() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.added {
		return false
	}
	s.added = true
	return true
}

func (s *static) unclaim() {
	s.mu.Lock()
	s.added = false
	s.mu.Unlock()
}

func (s *static) set(bits uint64, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.added {
		return ErrStatic
	}
	s.bits, s.text = bits, text
	return nil
}

func (s *static) get() (uint64, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bits, s.text
}

func (s *static) bind([]byte, placement) {}

// putBits writes the value as a native size-byte number (4 or 8).
func (s *static) putBits(mem []byte, p placement, size int) {
	bits, _ := s.get()
	if size == 4 {
		binary.NativeEndian.PutUint32(mem[p.value:], uint32(bits))
		return
	}
	binary.NativeEndian.PutUint64(mem[p.value:], bits)
}

// StaticUint32 is a write-once 32-bit unsigned value (Python's
// StaticUIntField, type "I"). Set it before adding the field to a file.
type StaticUint32 struct{ static }

func (*StaticUint32) spec() spec                        { return spec{code: "I", size: 4, kind: reader.KindInfo} }
func (s *StaticUint32) initial(mem []byte, p placement) { s.putBits(mem, p, 4) }

// Set sets the value; it returns ErrStatic once the field is in a file.
func (s *StaticUint32) Set(v uint32) error { return s.set(uint64(v), "") }

// Value returns the value.
func (s *StaticUint32) Value() uint32 { b, _ := s.get(); return uint32(b) }

// StaticInt64 is a write-once 64-bit signed value (Python's
// StaticInt64Field, type "q").
type StaticInt64 struct{ static }

func (*StaticInt64) spec() spec                        { return spec{code: "q", size: 8, kind: reader.KindInfo} }
func (s *StaticInt64) initial(mem []byte, p placement) { s.putBits(mem, p, 8) }

// Set sets the value; it returns ErrStatic once the field is in a file.
func (s *StaticInt64) Set(v int64) error { return s.set(uint64(v), "") }

// Value returns the value.
func (s *StaticInt64) Value() int64 { b, _ := s.get(); return int64(b) }

// StaticUint64 is a write-once 64-bit unsigned value (Python's
// StaticUInt64Field, type "Q").
type StaticUint64 struct{ static }

func (*StaticUint64) spec() spec                        { return spec{code: "Q", size: 8, kind: reader.KindInfo} }
func (s *StaticUint64) initial(mem []byte, p placement) { s.putBits(mem, p, 8) }

// Set sets the value; it returns ErrStatic once the field is in a file.
func (s *StaticUint64) Set(v uint64) error { return s.set(v, "") }

// Value returns the value.
func (s *StaticUint64) Value() uint64 { b, _ := s.get(); return b }

// StaticFloat32 is a write-once 32-bit float (Python's StaticFloatField,
// type "f").
type StaticFloat32 struct{ static }

func (*StaticFloat32) spec() spec                        { return spec{code: "f", size: 4, kind: reader.KindInfo} }
func (s *StaticFloat32) initial(mem []byte, p placement) { s.putBits(mem, p, 4) }

// Set sets the value; it returns ErrStatic once the field is in a file.
func (s *StaticFloat32) Set(v float32) error { return s.set(uint64(math.Float32bits(v)), "") }

// Value returns the value.
func (s *StaticFloat32) Value() float32 { b, _ := s.get(); return math.Float32frombits(uint32(b)) }

// StaticFloat64 is a write-once 64-bit float (Python's StaticDoubleField,
// type "d").
type StaticFloat64 struct{ static }

func (*StaticFloat64) spec() spec                        { return spec{code: "d", size: 8, kind: reader.KindInfo} }
func (s *StaticFloat64) initial(mem []byte, p placement) { s.putBits(mem, p, 8) }

// Set sets the value; it returns ErrStatic once the field is in a file.
func (s *StaticFloat64) Set(v float64) error { return s.set(math.Float64bits(v), "") }

// Value returns the value.
func (s *StaticFloat64) Value() float64 { b, _ := s.get(); return math.Float64frombits(b) }

// StaticTextSize is the size of a StaticText: 256 bytes, as in Python.
const StaticTextSize = 256

// StaticText is a write-once UTF-8 string of up to 256 bytes (Python's
// StaticTextField, type "256s"). Longer values are cut at a character
// boundary.
type StaticText struct{ static }

func (*StaticText) spec() spec {
	return spec{code: "256s", size: StaticTextSize, kind: reader.KindInfo}
}

func (s *StaticText) initial(mem []byte, p placement) {
	_, text := s.get()
	fill(mem[p.value:p.value+StaticTextSize], text)
}

// Set sets the value; it returns ErrStatic once the field is in a file.
func (s *StaticText) Set(v string) error { return s.set(0, truncateUTF8(v, StaticTextSize)) }

// Value returns the value.
func (s *StaticText) Value() string { _, t := s.get(); return t }
