package pollstats

import (
	"math"
	"strconv"
)

// total is one column of one line: the sum over the files, exact for
// integers (even past int64, where it keeps the excess as a float64).
type total struct {
	i     int64   // the integers, exact
	f     float64 // float values, and integers that did not fit in i
	float bool    // a float field was added: print as a float
	big   bool    // f holds integers that overflowed i: print without decimals
}

func (t *total) addInt(v int64) {
	s := t.i + v
	if (v > 0 && s < t.i) || (v < 0 && s > t.i) {
		t.f += float64(v)
		t.big = true
		return
	}
	t.i = s
}

func (t *total) addUint(v uint64) {
	if v > math.MaxInt64 {
		t.f += float64(v)
		t.big = true
		return
	}
	t.addInt(int64(v))
}

func (t *total) addFloat(v float64) {
	t.f += v
	t.float = true
}

// addTotal adds another total.
func (t *total) addTotal(o *total) {
	t.addInt(o.i)
	t.f += o.f
	t.float = t.float || o.float
	t.big = t.big || o.big
}

// value returns the total as a float64.
func (t *total) value() float64 { return float64(t.i) + t.f }

// isZero reports whether the total is 0.
func (t *total) isZero() bool { return t.i == 0 && t.f == 0 }

// appendText appends the total in full: integers exactly, floats with up
// to sigDigits significant digits.
func (t *total) appendText(b []byte) []byte {
	switch {
	case t.float:
		return appendFloat(b, t.value())
	case t.big:
		return strconv.AppendFloat(b, t.value(), 'f', 0, 64)
	}
	return strconv.AppendInt(b, t.i, 10)
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

// compactWidth is the most columns appendCompact uses (for values up to
// 999 exa).
const compactWidth = 5

// appendCompact appends v in at most compactWidth characters, for a
// terminal too narrow for the exact text: 999, 12.3, 1.2k, 45M, -123G.
func appendCompact(b []byte, v float64) []byte {
	a := math.Abs(v)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return appendFloat(b, v)
	}
	if a < 999.5 {
		n := len(b)
		if b = appendFloat(b, v); len(b)-n <= compactWidth {
			return b
		}
		for dec := 3; ; dec-- { // a tiny float: as many decimals as fit
			b = strconv.AppendFloat(b[:n], v, 'f', dec, 64)
			if len(b)-n <= compactWidth || dec == 0 {
				return b
			}
		}
	}
	const units = "kMGTPE"
	u := 0
	a /= 1000
	for a >= 999.5 && u < len(units)-1 {
		a /= 1000
		u++
	}
	if a >= 999.5 {
		return strconv.AppendFloat(b, v, 'e', 0, 64)
	}
	if v < 0 {
		b = append(b, '-')
	}
	if a < 9.95 {
		b = strconv.AppendFloat(b, a, 'f', 1, 64)
	} else {
		b = strconv.AppendFloat(b, a, 'f', 0, 64)
	}
	return append(b, units[u])
}
