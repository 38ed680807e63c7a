package mmash

import (
	"errors"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// An aggregator reduces the values of one label, one per file, to one
// value, as ?aggr= asks. The values are never empty.
type aggregator func([]reader.Value) (reader.Value, error)

// aggregators are those of the original mmash, with the results Python
// gives: sums of integers are exact, averages are floats, min and max
// return one of the values unchanged (the first of equals), and booleans
// count as 0 and 1. "nonzero" leaves out the values Python finds false:
// zeros, false and empty strings.
var aggregators = map[string]aggregator{
	"avg":         avg,
	"one":         func(v []reader.Value) (reader.Value, error) { return v[0], nil },
	"max":         func(v []reader.Value) (reader.Value, error) { return extreme(v, 1) },
	"min":         func(v []reader.Value) (reader.Value, error) { return extreme(v, -1) },
	"sum":         sum,
	"nonzero-min": func(v []reader.Value) (reader.Value, error) { return extreme(nonzero(v), -1) },
	"nonzero-avg": func(v []reader.Value) (reader.Value, error) { return avg(nonzero(v)) },
}

// aggregatorNames lists the aggregators, for messages.
var aggregatorNames = strings.Join(slices.Sorted(maps.Keys(aggregators)), ", ")

var (
	errNotNumbers = errors.New("the values are not all numbers")
	errMixed      = errors.New("cannot compare numbers with strings")
	errNoValues   = errors.New("no non-zero values")
)

// sum adds the values as Python's sum does: exactly while they are
// integers, in floating point from the first float on.
func sum(vals []reader.Value) (reader.Value, error) {
	var exact big.Int
	var f float64
	float := false
	for _, v := range vals {
		switch k := v.Kind(); {
		case k == reader.Float:
			if !float {
				f, _ = new(big.Float).SetInt(&exact).Float64()
				float = true
			}
			f += v.Float()
		case !k.Numeric():
			return reader.Value{}, errNotNumbers
		case float:
			f += v.Float()
		case k == reader.Int:
			exact.Add(&exact, big.NewInt(v.Int()))
		default:
			exact.Add(&exact, new(big.Int).SetUint64(v.Uint()))
		}
	}
	switch {
	case float:
		return reader.FloatValue(f), nil
	case exact.IsInt64():
		return reader.IntValue(exact.Int64()), nil
	case exact.IsUint64():
		return reader.UintValue(exact.Uint64()), nil
	}
	f, _ = new(big.Float).SetInt(&exact).Float64()
	return reader.FloatValue(f), nil
}

// avg is float(sum(vals)) / len(vals).
func avg(vals []reader.Value) (reader.Value, error) {
	if len(vals) == 0 {
		return reader.Value{}, errNoValues
	}
	s, err := sum(vals)
	if err != nil {
		return reader.Value{}, err
	}
	return reader.FloatValue(s.Float() / float64(len(vals))), nil
}

// extreme returns the first largest value (sign 1) or the first smallest
// (sign -1). Numbers compare by value, strings by code points; a NaN is
// never larger nor smaller, so it is kept only when it comes first.
func extreme(vals []reader.Value, sign int) (reader.Value, error) {
	if len(vals) == 0 {
		return reader.Value{}, errNoValues
	}
	best := vals[0]
	for _, v := range vals[1:] {
		if v.Kind().Numeric() != best.Kind().Numeric() {
			return reader.Value{}, errMixed
		}
		if compare(v, best)*sign > 0 {
			best = v
		}
	}
	return best, nil
}

// compare compares two numbers or two strings: -1, 0 or 1, and 0 when
// either is NaN.
func compare(a, b reader.Value) int {
	if !a.Kind().Numeric() {
		return strings.Compare(a.Str(), b.Str())
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
	// Integers: compare exactly, signed against unsigned too.
	return bigInt(a).Cmp(bigInt(b))
}

func bigInt(v reader.Value) *big.Int {
	if v.Kind() == reader.Int {
		return big.NewInt(v.Int())
	}
	return new(big.Int).SetUint64(v.Uint())
}

// nonzero returns the values that Python finds true.
func nonzero(vals []reader.Value) []reader.Value {
	var kept []reader.Value
	for _, v := range vals {
		if v.Bool() {
			kept = append(kept, v)
		}
	}
	return kept
}
