package mmash

import (
	"errors"
	"math"
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

func TestAggregators(t *testing.T) {
	I, U, F, B, S := reader.IntValue, reader.UintValue, reader.FloatValue, reader.BoolValue, reader.StringValue
	nan := F(math.NaN())
	vals := func(v ...reader.Value) []reader.Value { return v }
	tests := []struct {
		aggr string
		in   []reader.Value
		want reader.Value
		err  error
	}{
		{"sum", vals(U(1), U(2)), I(3), nil},
		{"sum", vals(I(-5), U(7)), I(2), nil},
		{"sum", vals(U(math.MaxUint64), U(0)), U(math.MaxUint64), nil},
		{"sum", vals(U(math.MaxUint64), U(1)), F(18446744073709551616), nil},
		{"sum", vals(I(math.MinInt64), I(-1)), F(-9223372036854775809), nil},
		{"sum", vals(U(1<<53), U(1), F(0)), F(9007199254740992), nil}, // exact, then float
		{"sum", vals(F(0.5), U(1)), F(1.5), nil},
		// Python adds in order, in floats from the first float on:
		// 2^53 + 0.5 rounds to 2^53, and + 1 again (ties to even); the
		// integers first would give 2^53 + 2.
		{"sum", vals(U(1<<53), F(0.5), U(1)), F(9007199254740992), nil},
		{"sum", vals(U(1), F(0.5), U(1<<53)), F(9007199254740994), nil},
		{"sum", vals(U(math.MaxUint64), U(math.MaxUint64), F(0)), F(36893488147419103230), nil},
		{"sum", vals(B(true), B(true), U(1)), I(3), nil},
		{"sum", vals(nan, U(1)), nan, nil},
		{"sum", vals(U(1), S("x")), reader.Value{}, errNotNumbers},
		{"avg", vals(U(1), U(2)), F(1.5), nil},
		{"avg", vals(U(math.MaxUint64), U(math.MaxUint64)), F(18446744073709551615), nil},
		{"avg", vals(S("a")), reader.Value{}, errNotNumbers},
		{"one", vals(S("a"), U(1)), S("a"), nil},
		{"one", vals(nan), nan, nil},
		{"max", vals(U(1), I(-1), F(2.5), U(2)), F(2.5), nil},
		{"max", vals(U(math.MaxUint64), I(-1)), U(math.MaxUint64), nil},
		{"max", vals(U(1<<63), I(math.MaxInt64)), U(1 << 63), nil},
		{"max", vals(U(2), F(2)), U(2), nil}, // the first of equals
		{"max", vals(F(2), U(2)), F(2), nil},
		{"max", vals(nan, U(1)), nan, nil}, // as Python: NaN compares false
		{"max", vals(U(1), nan), U(1), nil},
		{"max", vals(B(false), B(true)), B(true), nil},
		{"max", vals(S("b"), S("a"), S("c")), S("c"), nil},
		{"max", vals(S("b"), U(1)), reader.Value{}, errMixed},
		{"min", vals(U(3), I(-2), F(-1.5)), I(-2), nil},
		{"min", vals(S("b"), S("a")), S("a"), nil},
		{"min", vals(U(1), S("a")), reader.Value{}, errMixed},
		{"nonzero-min", vals(U(0), U(5), U(3), F(0)), U(3), nil},
		{"nonzero-min", vals(U(0), B(false), F(0)), reader.Value{}, errNoValues},
		{"nonzero-min", vals(S(""), S("b")), S("b"), nil},
		{"nonzero-min", vals(U(0), nan), nan, nil}, // NaN is true in Python
		{"nonzero-avg", vals(U(0), U(4), U(2)), F(3), nil},
		{"nonzero-avg", vals(U(0), I(0)), reader.Value{}, errNoValues},
		{"nonzero-avg", vals(S("a")), reader.Value{}, errNotNumbers},
	}
	for _, tt := range tests {
		got, err := aggregators[tt.aggr](tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s%v: error %v, want %v", tt.aggr, tt.in, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		same := got.Kind() == tt.want.Kind() && string(got.AppendJSON(nil)) == string(tt.want.AppendJSON(nil))
		if !same {
			t.Errorf("%s%v = %v (%v), want %v (%v)", tt.aggr, tt.in, got, got.Kind(), tt.want, tt.want.Kind())
		}
	}
	if len(aggregators) != 7 {
		t.Errorf("%d aggregators, want the original's 7", len(aggregators))
	}
}
