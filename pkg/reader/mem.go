package reader

// This file is where the package reads through unsafe: reads of shared
// (mapped) memory in aligned words, so that a value that a writer stores
// atomically is also loaded atomically and never seen half-written. The
// only other uses are the mappings' addresses (mmap_unix.go) and a
// buffer's alignment (snapshot.go).

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// atomicCopy copies len(dst) bytes of data starting at off into dst. Every
// aligned 8-byte word that lies inside data is loaded with one atomic load;
// bytes of words that straddle the ends of data are copied one by one. The
// caller has checked that off+len(dst) <= len(data).
func atomicCopy(dst, data []byte, off int) {
	if len(dst) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	i := 0
	for i < len(dst) {
		pos := off + i
		addr := base + uintptr(pos)
		wordStart := pos - int(addr&7) // index in data of the aligned word
		if wordStart < 0 || wordStart+8 > len(data) {
			dst[i] = data[pos]
			i++
			continue
		}
		w := atomic.LoadUint64((*uint64)(unsafe.Pointer(unsafe.SliceData(data[wordStart : wordStart+8]))))
		var word [8]byte
		binary.NativeEndian.PutUint64(word[:], w)
		n := copy(dst[i:], word[pos-wordStart:])
		i += n
	}
}

// loadByte loads one byte of data atomically (as part of its word).
func loadByte(data []byte, off int) byte {
	var b [1]byte
	atomicCopy(b[:], data, off)
	return b[0]
}

// loadWords loads len(dst) native-endian 8-byte words of data starting
// at off into dst, each with one atomic load when the words are aligned
// in memory (as the writer's bucket counts are), else byte by byte
// through atomicCopy. The caller has checked that off+8*len(dst) <=
// len(data).
func loadWords(dst []uint64, data []byte, off int) {
	if len(dst) == 0 {
		return
	}
	if (uintptr(unsafe.Pointer(unsafe.SliceData(data)))+uintptr(off))&7 == 0 {
		_ = data[off+8*len(dst)-1] // one bounds check for the loop
		p := unsafe.Pointer(&data[off])
		for k := range dst {
			dst[k] = atomic.LoadUint64((*uint64)(unsafe.Add(p, 8*k)))
		}
		return
	}
	var w [8]byte
	for k := range dst {
		atomicCopy(w[:], data, off+8*k)
		dst[k] = binary.NativeEndian.Uint64(w[:])
	}
}

// loadSame loads, from each mapping of ws, the native-endian words at
// offs (each one a multiple of 8, the last byte of any below hi) into
// dst[k*stride:], one atomic load each, in one loop with nothing in it
// but the loads (see LoadSame). It returns the position of the first
// mapping shorter than hi, or len(ws); *at is the position of the
// mapping being read (where a fault stopped it).
func loadSame(ws []Words, offs []int, dst []uint64, stride, hi int, at *int) int {
	for k := range ws {
		*at = k
		data := ws[k].data
		if len(data) < hi {
			return k
		}
		p := unsafe.Pointer(unsafe.SliceData(data))
		d := dst[k*stride : k*stride+len(offs)]
		if uintptr(p)&7 != 0 { // never for a mapping, which starts a page
			for j, off := range offs {
				loadWords(d[j:j+1], data, off)
			}
			continue
		}
		for j, off := range offs {
			d[j] = atomic.LoadUint64((*uint64)(unsafe.Add(p, off)))
		}
	}
	return len(ws)
}

// sumWords returns the sum (wrapping) of n native-endian 8-byte words of
// data starting at off, each loaded with one atomic load, as loadWords
// loads them when they are aligned in memory; ok is false when they are
// not (the caller loads them with loadWords). The caller has checked
// that off+8*n <= len(data). It is loadWords without the copy, and
// without a bounds check a word: a Timer's 1,920 counts in a few
// hundred nanoseconds.
func sumWords(data []byte, off, n int) (sum uint64, ok bool) {
	if n == 0 {
		return 0, true
	}
	_ = data[off+8*n-1]
	p := unsafe.Pointer(&data[off])
	if uintptr(p)&7 != 0 {
		return 0, false
	}
	var s0, s1, s2, s3 uint64
	k := 0
	for ; k+4 <= n; k += 4 {
		s0 += atomic.LoadUint64((*uint64)(unsafe.Add(p, 8*k)))
		s1 += atomic.LoadUint64((*uint64)(unsafe.Add(p, 8*k+8)))
		s2 += atomic.LoadUint64((*uint64)(unsafe.Add(p, 8*k+16)))
		s3 += atomic.LoadUint64((*uint64)(unsafe.Add(p, 8*k+24)))
	}
	for ; k < n; k++ {
		s0 += atomic.LoadUint64((*uint64)(unsafe.Add(p, 8*k)))
	}
	return s0 + s1 + s2 + s3, true
}
