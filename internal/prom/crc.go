package prom

// The CRC-32 (IEEE) of a text made of pieces whose own CRCs are known:
// a gzip member's trailer holds the CRC of the whole text, and a Plan
// that compresses the pieces of its text that changed, and keeps those
// that did not (AppendGzip), has not made the others' text again.
//
// CRC-32 is linear over GF(2): the CRC of A followed by B is the CRC of
// A carried through len(B) zero bytes, XOR the CRC of B (the pre- and
// post-conditioning cancel). Carrying a CRC through n zero bytes is a
// 32×32 bit matrix, the n-th power of the one-zero-bit operator,
// computed by squaring as zlib's crc32_combine does; a piece keeps the
// matrix of its length, so that combining it costs 32 steps.

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

// crcShiftOf returns the operator of n zero bytes.
func crcShiftOf(n int) crcShift {
	var result crcShift // the identity
	for i := range result {
		result[i] = 1 << i
	}
	var op, sq crcShift // one zero bit, then squared
	op[0] = 0xedb88320  // the reversed polynomial
	for i := 1; i < 32; i++ {
		op[i] = 1 << (i - 1)
	}
	sq.square(&op) // 2 bits
	op.square(&sq) // 4 bits
	sq.square(&op) // 8 bits: one byte
	op = sq
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			var r crcShift
			for i := range r {
				r[i] = op.apply(result[i])
			}
			result = r
		}
		sq.square(&op)
		op = sq
	}
	return result
}

// crcCombine returns the CRC-32 of A followed by B from crcA, the CRC
// of A, and crcB, that of B, whose length gives shift (crcShiftOf).
func crcCombine(crcA, crcB uint32, shift *crcShift) uint32 {
	return shift.apply(crcA) ^ crcB
}
