package aggregate

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Number is a sum of values: integers exactly, as a 128-bit two's
// complement number (two uint64 counters near their maximum, or negative
// gauges, add up exactly), floats apart in a float64. Adding costs two
// additions and never allocates. The zero Number is 0.
type Number struct {
	hi    int64   // the integers: hi:lo, 128 bits
	lo    uint64  //
	f     float64 // the floats
	float bool    // a float was added: the sum is a float
}

// AddUint adds v.
func (n *Number) AddUint(v uint64) {
	var carry uint64
	n.lo, carry = bits.Add64(n.lo, v, 0)
	n.hi += int64(carry)
}

// AddInt adds v.
func (n *Number) AddInt(v int64) {
	var carry uint64
	n.lo, carry = bits.Add64(n.lo, uint64(v), 0)
	n.hi += v>>63 + int64(carry) // v>>63 is v's sign extended: 0 or -1
}

// AddFloat adds v; the sum is a float from then on.
func (n *Number) AddFloat(v float64) {
	n.f += v
	n.float = true
}

// Add adds a numeric value (booleans count as 0 and 1) and reports
// whether it was numeric.
func (n *Number) Add(v reader.Value) bool {
	switch v.Kind() {
	case reader.Int:
		n.AddInt(v.Int())
	case reader.Uint, reader.Bool:
		n.AddUint(v.Uint())
	case reader.Float:
		n.AddFloat(v.Float())
	default:
		return false
	}
	return true
}

// AddNumber adds another sum.
func (n *Number) AddNumber(o Number) {
	var carry uint64
	n.lo, carry = bits.Add64(n.lo, o.lo, 0)
	n.hi += o.hi + int64(carry)
	n.f += o.f
	n.float = n.float || o.float
}

// IsFloat reports whether a float was added.
func (n Number) IsFloat() bool { return n.float }

// IsZero reports whether the sum is 0.
func (n Number) IsZero() bool { return n.hi == 0 && n.lo == 0 && n.f == 0 }

// Int128 returns the sum of the integers as a 128-bit two's complement
// number hi:lo.
func (n Number) Int128() (hi int64, lo uint64) { return n.hi, n.lo }

// intFloat returns the integers as a float64, correctly rounded (to
// nearest, ties to even), as Python's float() of an int and big.Float
// round it: hi·2^64 + lo in two float operations would round twice.
func (n Number) intFloat() float64 {
	switch {
	case n.hi == 0:
		return float64(n.lo)
	case n.hi == -1 && int64(n.lo) < 0:
		return float64(int64(n.lo))
	}
	neg := n.hi < 0
	uh, ul := uint64(n.hi), n.lo
	if neg { // the magnitude
		var borrow uint64
		ul, borrow = bits.Sub64(0, ul, 0)
		uh, _ = bits.Sub64(0, uh, borrow)
	}
	// The top 64 bits of the magnitude, with the bits shifted out kept
	// as a sticky lowest bit: float64 of that rounds as of the whole
	// (the bit is far below the 53 bits kept), and the shift back by
	// Ldexp is exact.
	s := bits.Len(uint(uh))
	m := uh<<(64-s) | ul>>s
	if ul&(uint64(1)<<s-1) != 0 {
		m |= 1
	}
	f := math.Ldexp(float64(m), s)
	if neg {
		return -f
	}
	return f
}

// Float returns the sum as a float64.
func (n Number) Float() float64 { return n.intFloat() + n.f }

// Value returns the sum as a reader.Value: a Float if a float was added
// or the integers do not fit 64 bits, else a Uint (an Int if negative).
func (n Number) Value() reader.Value {
	switch {
	case n.float:
		return reader.FloatValue(n.Float())
	case n.hi == 0:
		return reader.UintValue(n.lo)
	case n.hi == -1 && int64(n.lo) < 0:
		return reader.IntValue(int64(n.lo))
	}
	return reader.FloatValue(n.intFloat())
}

// AppendText appends the sum in decimal: integers exactly, whatever
// their size, and floats as Value.AppendText does (Python's repr).
func (n Number) AppendText(b []byte) []byte {
	if n.float {
		return reader.FloatValue(n.Float()).AppendText(b)
	}
	return appendInt128(b, n.hi, n.lo)
}

// String returns AppendText's text.
func (n Number) String() string { return string(n.AppendText(nil)) }

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
	k := 0
	for uh != 0 {
		q, r := uh/group, uh%group
		ul, groups[k] = bits.Div64(r, ul, group) // r < group: no overflow
		uh = q
		k++
	}
	b = strconv.AppendUint(b, ul, 10)
	for k--; k >= 0; k-- {
		var digits [19]byte
		s := strconv.AppendUint(digits[:0], groups[k], 10)
		for range 19 - len(s) {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	return b
}

// Compare compares two values: numbers by value (exactly between signed
// and unsigned integers; booleans are 0 and 1), strings byte-wise. It
// returns -1, 0 or 1; 0 also when either is NaN, or for a number and a
// string, which do not compare.
func Compare(a, b reader.Value) int {
	an, bn := a.Kind().Numeric(), b.Kind().Numeric()
	switch {
	case !an && !bn:
		return strings.Compare(a.Str(), b.Str())
	case an != bn:
		return 0
	}
	if a.Kind() == reader.Float || b.Kind() == reader.Float {
		x, y := a.Float(), b.Float()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	// Integers: a negative Int is below every Uint; otherwise compare
	// as unsigned.
	aNeg := a.Kind() == reader.Int && a.Int() < 0
	bNeg := b.Kind() == reader.Int && b.Int() < 0
	switch {
	case aNeg && !bNeg:
		return -1
	case bNeg && !aNeg:
		return 1
	case aNeg && bNeg:
		return cmp64(a.Int(), b.Int())
	}
	return cmpU64(a.Uint(), b.Uint())
}

func cmp64(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpU64(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
