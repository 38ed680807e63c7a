package pollstats

import (
	"math"
	"math/bits"
	"strconv"
)

// total is one column of one line: the sum over the files. Integers are
// summed exactly, in 128 bits, so that a total past 64 bits (two uint64
// counters near their maximum, or a negative one) prints exactly, and a
// sum costs two additions, without allocating. Float fields are summed
// apart, as float64.
type total struct {
	hi    int64   // the integers: a 128-bit two's complement number hi:lo
	lo    uint64  //
	f     float64 // the floats
	float bool    // a float field was added: print as a float
}

func (t *total) addUint(v uint64) {
	var carry uint64
	t.lo, carry = bits.Add64(t.lo, v, 0)
	t.hi += int64(carry)
}

func (t *total) addInt(v int64) {
	var carry uint64
	t.lo, carry = bits.Add64(t.lo, uint64(v), 0)
	t.hi += v>>63 + int64(carry) // v>>63 is v's sign extended: 0 or -1
}

func (t *total) addFloat(v float64) {
	t.f += v
	t.float = true
}

// addTotal adds another total.
func (t *total) addTotal(o *total) {
	var carry uint64
	t.lo, carry = bits.Add64(t.lo, o.lo, 0)
	t.hi += o.hi + int64(carry)
	t.f += o.f
	t.float = t.float || o.float
}

// intValue returns the integers as a float64.
func (t *total) intValue() float64 {
	switch {
	case t.hi == 0:
		return float64(t.lo)
	case t.hi == -1 && int64(t.lo) < 0:
		return float64(int64(t.lo))
	}
	return float64(t.hi)*(1<<64) + float64(t.lo)
}

// value returns the total as a float64.
func (t *total) value() float64 { return t.intValue() + t.f }

// isZero reports whether the total is 0.
func (t *total) isZero() bool { return t.hi == 0 && t.lo == 0 && t.f == 0 }

// appendText appends the total in full: integers exactly, floats with up
// to sigDigits significant digits.
func (t *total) appendText(b []byte) []byte {
	if t.float {
		return appendFloat(b, t.value())
	}
	return appendInt128(b, t.hi, t.lo)
}

// appendInt128 appends the 128-bit two's complement number hi:lo in
// decimal, without allocating.
func appendInt128(b []byte, hi int64, lo uint64) []byte {
	switch {
	case hi == 0:
		return strconv.AppendUint(b, lo, 10)
	case hi == -1 && int64(lo) < 0:
		return strconv.AppendInt(b, int64(lo), 10)
	}
	uh, ul := uint64(hi), lo
	if hi < 0 { // negate: the magnitude, then a minus sign
		b = append(b, '-')
		var borrow uint64
		ul, borrow = bits.Sub64(0, ul, 0)
		uh, _ = bits.Sub64(0, uh, borrow)
	}
	// Divide by 10^19 (the largest power of ten in 64 bits) until the
	// number fits in 64 bits: at most 3 groups of 19 digits.
	const group = 1e19
	var groups [3]uint64
	n := 0
	for uh != 0 {
		q, r := uh/group, uh%group
		ul, groups[n] = bits.Div64(r, ul, group) // r < group: no overflow
		uh = q
		n++
	}
	b = strconv.AppendUint(b, ul, 10)
	for n--; n >= 0; n-- {
		var digits [19]byte
		s := strconv.AppendUint(digits[:0], groups[n], 10)
		for range 19 - len(s) {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	return b
}

// sigDigits is how many significant digits a float shows.
const sigDigits = 6

// appendFloat appends v with up to sigDigits significant digits and no
// trailing zeros, in positional notation unless it is huge or tiny:
// 0.3, 12.3457, 1700000000, 1.5e-05.
func appendFloat(b []byte, v float64) []byte {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 0):
		if v > 0 {
			return append(b, "+Inf"...)
		}
		return append(b, "-Inf"...)
	case v == 0:
		return append(b, '0')
	case a >= 1e15 || a < 1e-4:
		return strconv.AppendFloat(b, v, 'g', 4, 64)
	}
	dec := sigDigits - (int(math.Floor(math.Log10(a))) + 1)
	dec = min(max(dec, 0), sigDigits)
	b = strconv.AppendFloat(b, v, 'f', dec, 64)
	if dec > 0 {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	return b
}

// compactWidth is the most columns appendCompact uses.
const compactWidth = 5

// appendCompact appends v in at most compactWidth characters, for a
// terminal too narrow for the exact text, with SI prefixes both ways:
// 999, 12.3, 0.012, 1.2k, 45M, -123G for large numbers, and 1.4m, 14µ,
// 250n for small ones (a p50 of 1.4e-05 seconds is 14µ, not 0.000).
func appendCompact(b []byte, v float64) []byte {
	a := math.Abs(v)
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return appendFloat(b, v)
	}
	n := len(b)
	if a < 999.5 && a >= 1e-4 {
		// As it is if that fits (0.5, 12.34), else with fewer decimals if
		// two significant digits are left (0.012, but not 0.001 for
		// 0.0014).
		if b = appendFloat(b, v); len(b)-n <= compactWidth {
			return b
		}
		for dec := 3; dec >= 0; dec-- {
			b = strconv.AppendFloat(b[:n], v, 'f', dec, 64)
			if len(b)-n <= compactWidth {
				if a >= 1 || significant(b[n:]) >= 2 {
					return b
				}
				break
			}
		}
		b = b[:n]
	}
	// A prefix for each factor of 1000. A number stays with the larger
	// prefix when it rounds to 1.0 in it: 0.0009996 is 1.0m, not 1000µ.
	var prefix string
	if a >= 999.5 {
		for _, p := range []string{"k", "M", "G", "T", "P", "E"} {
			a /= 1000
			if prefix = p; a < 999.5 {
				break
			}
		}
	} else {
		for _, p := range []string{"m", "µ", "n", "p", "f", "a"} {
			a *= 1000
			if prefix = p; a >= 0.995 {
				break
			}
		}
	}
	if a >= 999.5 || a < 0.995 { // beyond the prefixes
		return strconv.AppendFloat(b, v, 'e', 0, 64)
	}
	if v < 0 {
		b = append(b, '-')
	}
	// One decimal below 10 (1.2k, 1.4µ), none above (45M, 14µ).
	if a < 9.95 {
		b = strconv.AppendFloat(b, a, 'f', 1, 64)
	} else {
		b = strconv.AppendFloat(b, a, 'f', 0, 64)
	}
	return append(b, prefix...)
}

// significant counts the significant digits of a number in positional
// notation: those from the first non-zero digit on.
func significant(s []byte) int {
	n := 0
	for _, c := range s {
		if c >= '1' && c <= '9' || c == '0' && n > 0 {
			n++
		}
	}
	return n
}
