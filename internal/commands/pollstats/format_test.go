package pollstats

import (
	"math"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

func TestAppendFloat(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.1 + 0.2, "0.3"}, {1.5, "1.5"}, {3, "3"}, {-2.25, "-2.25"},
		{12.3456789, "12.3457"}, {0.000123456, "0.000123456"}, {0.00398792, "0.00398792"}, {1.234567e-5, "1.23457e-05"}, {1.5e-5, "1.5e-05"},
		{1700000000.123, "1700000000"}, {2e15, "2e+15"},
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"},
	} {
		if got := string(appendFloat(nil, tt.v)); got != tt.want {
			t.Errorf("appendFloat(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestAppendCompact(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {999, "999"}, {-999, "-999"}, {12.34, "12.34"}, {-0.123, "-0.12"},
		{1000, "1.0k"}, {1234, "1.2k"}, {-45678, "-46k"},
		{999499, "999k"}, {999500, "1.0M"}, {123456789012, "123G"}, {-5e17, "-500P"},
		{2e21, "2e+21"},
		// Small numbers get prefixes too, symmetric with the large ones.
		{0.5, "0.5"}, {0.0123, "0.012"}, {0.0014, "1.4m"}, {-0.0014, "-1.4m"},
		{1.4e-05, "14µ"}, {0.0000123, "12µ"}, {-0.0000123, "-12µ"}, {0.0001, "100µ"},
		{0.000994, "994µ"}, {0.0009996, "1.0m"}, {0.00099, "990µ"}, {9.9996e-7, "1.0µ"}, {2.5e-7, "250n"}, {1e-9, "1.0n"},
		{3.3e-13, "330f"}, {1e-20, "1e-20"}, {math.NaN(), "NaN"}, {math.Inf(-1), "-Inf"},
	} {
		got := string(appendCompact(nil, tt.v))
		if got != tt.want {
			t.Errorf("appendCompact(%v) = %q, want %q", tt.v, got, tt.want)
		}
		if utf8.RuneCountInString(got) > compactWidth && math.Abs(tt.v) < 1e21 && math.Abs(tt.v) > 1e-18 {
			t.Errorf("appendCompact(%v) = %q is longer than %d", tt.v, got, compactWidth)
		}
	}
}

// TestSumsStayExact: a column's sum (aggregate.Number) prints exactly,
// past 64 bits and below 0, without allocating.
func TestSumsStayExact(t *testing.T) {
	tests := []struct {
		name string
		add  func(*aggregate.Number)
		want string
	}{
		{"past int64", func(n *aggregate.Number) { n.AddUint(math.MaxInt64); n.AddUint(10) }, "9223372036854775817"},
		{"two uint64 max", func(n *aggregate.Number) { n.AddUint(math.MaxUint64); n.AddUint(math.MaxUint64) }, "36893488147419103230"},
		{"and back", func(n *aggregate.Number) { n.AddUint(math.MaxUint64); n.AddInt(1); n.AddInt(-2) }, "18446744073709551614"},
		{"negative", func(n *aggregate.Number) { n.AddInt(-5); n.AddInt(3) }, "-2"},
		{"int64 min three times", func(n *aggregate.Number) {
			for range 3 {
				n.AddInt(math.MinInt64)
			}
		}, "-27670116110564327424"},
		{"a float makes it a float", func(n *aggregate.Number) { n.AddUint(3); n.AddFloat(0.5) }, "3.5"},
		{"floats in 6 digits", func(n *aggregate.Number) { n.AddFloat(1.0 / 3) }, "0.333333"},
	}
	for _, tt := range tests {
		r := result{isSum: true}
		tt.add(&r.sum)
		if got := string(appendResult(nil, &r, false, 0)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
		want, _ := strconv.ParseFloat(tt.want, 64)
		if v := r.float(false, 0); math.Abs(v-want) > 1e-5*math.Abs(want) || r.none() {
			t.Errorf("%s: value %v, want %v", tt.name, v, want)
		}
	}
	if got := testing.AllocsPerRun(100, func() {
		r := result{isSum: true}
		r.sum.AddUint(math.MaxUint64)
		r.sum.AddInt(-3)
		var buf [64]byte
		appendResult(buf[:0], &r, false, 0)
	}); got != 0 {
		t.Errorf("%v allocations per sum", got)
	}
}

// TestResults: other values as they print, piped and on a terminal,
// where a timestamp shows as its age.
func TestResults(t *testing.T) {
	now := 1.8e9
	for _, tt := range []struct {
		r           result
		piped, term string
	}{
		{result{value: reader.FloatValue(0.000123456)}, "0.000123456", "0.000123456"},
		{result{value: reader.UintValue(math.MaxUint64)}, "18446744073709551615", "18446744073709551615"},
		{result{value: reader.IntValue(-4)}, "-4", "-4"},
		{result{}, "-", "-"},
		{result{value: reader.FloatValue(now - 0.25), stamp: true}, "1800000000", "0.2s"},
		{result{value: reader.FloatValue(now - 12), stamp: true}, "1799999988", "12s"},
		{result{value: reader.UintValue(uint64(now) - 330), stamp: true}, "1799999670", "5.5m"},
		{result{value: reader.FloatValue(now + 3), stamp: true}, "1800000003", "-3.0s"},
	} {
		if got := string(appendResult(nil, &tt.r, false, now)); got != tt.piped {
			t.Errorf("%+v piped: %q, want %q", tt.r, got, tt.piped)
		}
		if got := string(appendResult(nil, &tt.r, true, now)); got != tt.term {
			t.Errorf("%+v on a terminal: %q, want %q", tt.r, got, tt.term)
		}
	}
}

func TestAppendAge(t *testing.T) {
	for _, tt := range []struct {
		age  float64
		want string
	}{
		{0, "0.0s"}, {-0.01, "0.0s"}, {0.34, "0.3s"}, {9.94, "9.9s"}, {9.96, "10s"}, {59.4, "59s"},
		{59.5, "1.0m"}, {330, "5.5m"}, {3569, "59m"}, {3570, "1.0h"}, {7200, "2.0h"},
		{23.4 * 3600, "23h"}, {23.5 * 3600, "1.0d"}, {364 * 86400, "364d"}, {-7200, "-2.0h"},
	} {
		if got := string(appendAge(nil, tt.age)); got != tt.want {
			t.Errorf("appendAge(%v) = %q, want %q", tt.age, got, tt.want)
		}
	}
}

// TestShare: one file's share of a column between two reads: the change
// of a counter, the value of anything else; a bool is 0 or 1.
func TestShare(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		name      string
		prev, cur reader.Value
		absolute  bool
		want      string
	}{
		{"counter up", reader.UintValue(5), reader.UintValue(8), false, "3"},
		{"counter reset", reader.UintValue(8), reader.UintValue(5), false, "0"},
		{"uint64 from 0 to max", reader.UintValue(0), reader.UintValue(math.MaxUint64), false, "18446744073709551615"},
		{"int64 from min to max", reader.IntValue(math.MinInt64), reader.IntValue(math.MaxInt64), false, "18446744073709551615"},
		{"absolute uint64 max", reader.UintValue(0), reader.UintValue(math.MaxUint64), true, "18446744073709551615"},
		{"absolute negative", reader.IntValue(0), reader.IntValue(-7), true, "-7"},
		{"unchanged +Inf", reader.FloatValue(inf), reader.FloatValue(inf), false, "0"},
		{"unchanged -Inf", reader.FloatValue(-inf), reader.FloatValue(-inf), false, "0"},
		{"to +Inf", reader.FloatValue(1), reader.FloatValue(inf), false, "+Inf"},
		{"NaN", reader.FloatValue(nan), reader.FloatValue(nan), false, "0"},
		{"float up", reader.FloatValue(1.5), reader.FloatValue(2), false, "0.5"},
		{"bool", reader.BoolValue(true), reader.BoolValue(true), false, "1"},
		{"bool false", reader.BoolValue(true), reader.BoolValue(false), true, "0"},
		{"string", reader.Value{}, reader.StringValue("x"), true, "-"},
	}
	for _, tt := range tests {
		r := result{value: share(tt.prev, tt.cur, !tt.absolute)}
		if got := string(appendResult(nil, &r, false, 0)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
