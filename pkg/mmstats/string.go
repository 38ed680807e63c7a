package mmstats

import (
	"encoding/binary"
	"github.com/mmstats/mmstats/internal/v1"
	"runtime"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"github.com/mmstats/mmstats/pkg/reader"
)

// DefaultStringSize is the size of a String whose Size is 0.
const DefaultStringSize = 255

// maxStringSize bounds String.Size (a value must fit the format's sizes).
const maxStringSize = 1 << 20

// String is a UTF-8 string of at most Size bytes (Python's StringField,
// type "255s" by default). Longer values are cut at a character boundary.
//
// A string cannot be written atomically, so it is double buffered and
// guarded by a sequence word (see package reader): Set writes the buffer
// readers are not reading, flips the write_buffer byte, and bumps the
// sequence word before and after, so that a reader can tell a copy that a
// write overtook and retry. Sets of the same String are serialised with a
// short spin; different fields never contend, and readers never wait.
type String struct {
	claimFlag
	// Size is the field's capacity in bytes; 0 means DefaultStringSize.
	// It is read when the field is added to a file. Struct tag: size=N.
	Size int

	busy atomic.Uint32 // held by the goroutine in Set or Value

	// Guarded by busy.
	local string // the value until the field is in a file
	bound bool
	n     int     // capacity in the file
	bufs  []byte  // buffers[0] and buffers[1]
	wb    subword // the write_buffer byte
	seq   *uint64 // the sequence word
	count uint32  // the sequence number
	cur   uint8   // the buffer writers write: readers read cur^1
}

func (s *String) size() int {
	if s.Size <= 0 {
		return DefaultStringSize
	}
	return min(s.Size, maxStringSize)
}

func (s *String) spec() spec {
	n := s.size()
	return spec{code: strconv.Itoa(n) + "s", size: n, buffered: true, seq: true, kind: reader.KindInfo}
}

func (s *String) setOption(key, value string) error {
	if key != "size" {
		return modelError("String takes size=N, not %s", key)
	}
	n, err := positiveOption(key, value, maxStringSize)
	s.Size = n
	return err
}

func (s *String) lock() {
	for i := 0; !s.busy.CompareAndSwap(0, 1); i++ {
		if i > 16 {
			runtime.Gosched()
		}
	}
}

func (s *String) unlock() { s.busy.Store(0) }

// initial writes the value into buffers[1], the one readers read while
// write_buffer is 0.
func (s *String) initial(mem []byte, p placement) {
	s.lock()
	defer s.unlock()
	n := s.size()
	fill(mem[p.value+n:p.value+2*n], truncateUTF8(s.local, n))
}

func (s *String) bind(mem []byte, p placement) {
	s.lock()
	defer s.unlock()
	s.n = s.size()
	s.bufs = mem[p.value : p.value+2*s.n]
	s.wb = subwordAt(mem, p.wb, 1)
	s.seq = word64(mem, p.seq)
	s.bound = true
	s.write(truncateUTF8(s.local, s.n)) // a Set may have come since initial
}

// Set replaces the value, cut to Size bytes without splitting a UTF-8
// sequence.
func (s *String) Set(v string) {
	s.lock()
	defer s.unlock()
	if !s.bound {
		s.local = truncateUTF8(v, s.size())
		return
	}
	s.write(truncateUTF8(v, s.n))
}

// write publishes v (at most n bytes); the caller holds busy.
func (s *String) write(v string) {
	s.count++ // odd: a write is in flight
	atomic.SwapUint64(s.seq, seqWord(s.count))
	fill(s.bufs[int(s.cur)*s.n:int(s.cur+1)*s.n], v)
	s.cur ^= 1
	s.wb.store(uint32(s.cur))
	s.count++ // even: done
	atomic.StoreUint64(s.seq, seqWord(s.count))
}

// Value returns the value.
func (s *String) Value() string {
	s.lock()
	defer s.unlock()
	if !s.bound {
		return s.local
	}
	b := s.bufs[int(s.cur^1)*s.n : int(s.cur^1+1)*s.n]
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return string(b)
}

func seqWord(n uint32) uint64 {
	w := v1.EncodeSeq(n)
	return binary.NativeEndian.Uint64(w[:])
}

// fill copies v into buf and zeroes the rest.
func fill(buf []byte, v string) {
	n := copy(buf, v)
	clear(buf[n:])
}

// truncateUTF8 cuts v to at most n bytes without splitting a character.
func truncateUTF8(v string, n int) string {
	if len(v) <= n {
		return v
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}
