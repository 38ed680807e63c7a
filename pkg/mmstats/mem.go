package mmstats

// This file is the only one in the package that turns offsets into the
// mapping into pointers, for the atomic operations of the fields,
// checking bounds and alignment first. The only other uses of unsafe are
// in the system-call files, which hand addresses to the kernel: the
// mapping's, to map over it (sys_unix.go), and a word's, for thr_self to
// fill (sys_freebsd.go).

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// word64 returns the aligned 8-byte word at off in mem.
func word64(mem []byte, off int) *uint64 {
	checkWord(mem, off, 8)
	return (*uint64)(unsafe.Pointer(&mem[off]))
}

// word32 returns the aligned 4-byte word at off in mem.
func word32(mem []byte, off int) *uint32 {
	checkWord(mem, off, 4)
	return (*uint32)(unsafe.Pointer(&mem[off]))
}

// checkWord panics if [off, off+n) is outside mem or not n-aligned. The
// layout code guarantees both; a failure is a bug in this package, never
// a consequence of input.
func checkWord(mem []byte, off, n int) {
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(mem))) + uintptr(off)
	if off < 0 || off+n > len(mem) || addr&uintptr(n-1) != 0 {
		panic(fmt.Sprintf("mmstats: internal error: %d-byte word at %d outside or misaligned in %d bytes", n, off, len(mem)))
	}
}

// subword locates a 1- or 2-byte value inside its aligned 4-byte word.
type subword struct {
	word  *uint32
	shift uint8  // bit position of the value inside the word
	mask  uint32 // value mask before shifting: 0xff or 0xffff
}

// subwordAt returns the word holding the n-byte value at off.
func subwordAt(mem []byte, off, n int) subword {
	start := off &^ 3
	var probe [4]byte
	probe[off-start] = 0xff
	if n == 2 {
		probe[off-start+1] = 0xff
	}
	m := binary.NativeEndian.Uint32(probe[:])
	var shift uint8
	for m>>shift&1 == 0 {
		shift++
	}
	return subword{word: word32(mem, start), shift: shift, mask: 1<<(8*uint(n)) - 1}
}

// load returns the value.
func (s subword) load() uint32 { return atomic.LoadUint32(s.word) >> s.shift & s.mask }

// store replaces the value, leaving the other bytes of the word alone.
func (s subword) store(v uint32) {
	for {
		old := atomic.LoadUint32(s.word)
		n := old&^(s.mask<<s.shift) | (v&s.mask)<<s.shift
		if old == n || atomic.CompareAndSwapUint32(s.word, old, n) {
			return
		}
	}
}

// setBits and clearBits change only the given bits of the value: one
// locked instruction each, no loop.
func (s subword) setBits(v uint32)   { atomic.OrUint32(s.word, (v&s.mask)<<s.shift) }
func (s subword) clearBits(v uint32) { atomic.AndUint32(s.word, ^((v & s.mask) << s.shift)) }

// publishWord stores the 4-byte word at off (4-aligned) in one atomic
// store, with the bytes in b. Used to publish an appended field: its
// label_sz changes from 0 (end of list) to the real size at once.
func publishWord(mem []byte, off int, b [4]byte) {
	atomic.StoreUint32(word32(mem, off), binary.NativeEndian.Uint32(b[:]))
}

// loadWords copies src to dst one aligned 8-byte word at a time, each
// read atomically: a value that a hot path updates meanwhile is copied
// whole, old or new, never torn (grow compares the copy with the frozen
// file field by field).
func loadWords(dst, src []byte) {
	for off := 0; off+8 <= len(src); off += 8 {
		binary.NativeEndian.PutUint64(dst[off:], atomic.LoadUint64(word64(src, off)))
	}
}

// words64 returns the n aligned 8-byte words at off in mem, for the
// histogram buckets a refresher publishes (it alone writes them, with
// atomic stores).
func words64(mem []byte, off, n int) []uint64 {
	checkWord(mem, off, 8)
	if n < 1 || off+8*n > len(mem) {
		panic(fmt.Sprintf("mmstats: internal error: %d words at %d outside %d bytes", n, off, len(mem)))
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&mem[off])), n)
}
