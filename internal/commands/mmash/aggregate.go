package mmash

import (
	"errors"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/mmstats/mmstats/pkg/aggregate"
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
// integers (aggregate.Number, 128 bits), then in floating point from the
// first float on, one addition at a time, in order: the float sum of
// Python, not aggregate's, which adds the floats apart.
func sum(vals []reader.Value) (reader.Value, error) {
	var exact aggregate.Number
	var f float64
	float := false
	for _, v := range vals {
		switch k := v.Kind(); {
		case !k.Numeric():
			return reader.Value{}, errNotNumbers
		case k == reader.Float:
			if !float {
				f, float = exact.Float(), true // Python's float(int): rounded once
			}
			f += v.Float()
		case float:
			f += v.Float()
		default:
			exact.Add(v)
		}
	}
	if float {
		return reader.FloatValue(f), nil
	}
	v := exact.Value() // a Uint, an Int if negative, a Float past 64 bits
	if v.Kind() == reader.Uint && v.Uint() <= math.MaxInt64 {
		v = reader.IntValue(int64(v.Uint()))
	}
	return v, nil
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
		if aggregate.Compare(v, best)*sign > 0 {
			best = v
		}
	}
	return best, nil
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
