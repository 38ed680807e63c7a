package pollstats

import (
	"math"
	"strconv"

	"github.com/mmstats/mmstats/pkg/reader"
)

// appendResult appends the text of a result: sums exactly (integers
// whatever their size), floats with up to sigDigits significant digits,
// "-" for no value. On a terminal (ages), a timestamp shows as its age
// at now, in seconds since the epoch: 0.3s, 12s, 5.5m, 3.0h, 2.1d.
func appendResult(b []byte, r *result, ages bool, now float64) []byte {
	if r.isSum {
		if r.sum.IsFloat() {
			return appendFloat(b, r.sum.Float())
		}
		return r.sum.AppendText(b)
	}
	switch r.value.Kind() {
	case reader.Int, reader.Uint:
		if !ages || !r.stamp {
			return r.value.AppendText(b)
		}
	case reader.Float:
		if !ages || !r.stamp {
			return appendFloat(b, r.value.Float())
		}
	default:
		return append(b, '-')
	}
	return appendAge(b, now-r.value.Float())
}

// float returns a result as a float64, for the compact text and the
// colour; ages as the age at now.
func (r *result) float(ages bool, now float64) float64 {
	switch {
	case r.isSum:
		return r.sum.Float()
	case ages && r.stamp && r.value.Kind().Numeric():
		return now - r.value.Float()
	}
	return r.value.Float()
}

// none reports whether a result has no value to show.
func (r *result) none() bool { return !r.isSum && r.value.Kind() == reader.Invalid }

// appendAge appends an age in seconds as a terminal shows it, in
// compactWidth characters up to 9,999 days: 0.3s, 12s, 5.5m, 42m, 3.0h,
// 2.1d, 364d. An age below zero (a writer's clock ahead of this one) has
// a minus sign.
func appendAge(b []byte, age float64) []byte {
	if math.IsNaN(age) || math.IsInf(age, 0) {
		return appendFloat(b, age)
	}
	if age < 0 {
		if age > -0.05 {
			return append(b, "0.0s"...)
		}
		b = append(b, '-')
		age = -age
	}
	// Each unit from where the smaller one would round to 60 (24 for
	// hours), so that no age reads 60s or 24h.
	var unit string
	var v float64
	switch {
	case age < 59.5:
		unit, v = "s", age
	case age < 59.5*60:
		unit, v = "m", age/60
	case age < 23.5*3600:
		unit, v = "h", age/3600
	default:
		unit, v = "d", age/86400
	}
	if v < 9.95 {
		b = strconv.AppendFloat(b, v, 'f', 1, 64)
	} else {
		b = strconv.AppendFloat(b, v, 'f', 0, 64)
	}
	return append(b, unit...)
}

// sigDigits is how many significant digits a float shows.
const sigDigits = 6

// appendFloat appends v with up to sigDigits significant digits and no
// trailing zeros, in positional notation unless it is huge or tiny:
// 0.3, 12.3457, 0.000193425, 1700000000, 1.5e-05. Small values keep
// their digits too: a percentile of 0.000193425 s must not print as
// 0.000193, 0.2% off, when the merged buckets are within 0.54%.
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
		return strconv.AppendFloat(b, v, 'g', sigDigits, 64)
	}
	dec := max(sigDigits-(int(math.Floor(math.Log10(a)))+1), 0) // at most 9, for 1e-4

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
