package prom

import "sync"

// The CRC-32 (IEEE) of a text made of pieces whose own CRCs are known:
// a gzip member's trailer holds the CRC of the whole text, and a Plan
// that compresses the pieces of its text that changed, and keeps those
// that did not (AppendGzip), has not made the others' text again.
//
// CRC-32 is linear over GF(2): the CRC of A followed by B is the CRC of
// A carried through len(B) zero bytes, XOR the CRC of B (the pre- and
// post-conditioning cancel). Carrying a CRC through 2^k zero bytes is a
// 32×32 bit matrix, the square of that of 2^(k-1), as zlib's
// crc32_combine computes it; the matrices of every 2^k are made once,
// and carrying a CRC through n bytes applies those of n's bits, 32
// steps each.

// crcShift is the operator that carries a CRC-32 through some number of
// zero bytes: column i is the image of bit i.
type crcShift [32]uint32

// apply returns crc carried through the shift's zero bytes.
func (m *crcShift) apply(crc uint32) uint32 {
	var sum uint32
	for i := 0; crc != 0; i, crc = i+1, crc>>1 {
		if crc&1 != 0 {
			sum ^= m[i]
		}
	}
	return sum
}

// square sets m to the square of s (twice as many zero bits).
func (m *crcShift) square(s *crcShift) {
	for i := range m {
		m[i] = s.apply(s[i])
	}
}

// crcPowers holds the operators of 2^k zero bytes, k = 0 to 62.
var crcPowers = sync.OnceValue(func() *[63]crcShift {
	var ps [63]crcShift
	var op, sq crcShift // one zero bit, then squared
	op[0] = 0xedb88320  // the reversed polynomial
	for i := 1; i < 32; i++ {
		op[i] = 1 << (i - 1)
	}
	sq.square(&op) // 2 bits
	op.square(&sq) // 4 bits
	ps[0].square(&op)
	for k := 1; k < len(ps); k++ {
		ps[k].square(&ps[k-1])
	}
	return &ps
})

// crcCombine returns the CRC-32 of A followed by B from crcA, the CRC
// of A, and crcB and n, the CRC and length of B.
func crcCombine(crcA, crcB uint32, n int) uint32 {
	ps := crcPowers()
	for k := 0; n > 0 && crcA != 0; k, n = k+1, n>>1 {
		if n&1 != 0 {
			crcA = ps[k].apply(crcA)
		}
	}
	return crcA ^ crcB
}
