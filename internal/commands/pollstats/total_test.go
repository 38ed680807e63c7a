package pollstats

import (
	"math"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/mmstats/mmstats/pkg/reader"
)

func TestAppendFloat(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.1 + 0.2, "0.3"}, {1.5, "1.5"}, {3, "3"}, {-2.25, "-2.25"},
		{12.3456789, "12.3457"}, {0.000123456, "0.000123"}, {1.5e-5, "1.5e-05"},
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
		{0.000994, "994µ"}, {0.0009996, "0.001"}, {0.00099, "990µ"}, {9.9996e-7, "1.0µ"}, {2.5e-7, "250n"}, {1e-9, "1.0n"},
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

func TestTotalStaysExact(t *testing.T) {
	tests := []struct {
		name string
		add  func(*total)
		want string
	}{
		{"past int64", func(t *total) { t.addUint(math.MaxInt64); t.addUint(10) }, "9223372036854775817"},
		{"a uint64 past int64", func(t *total) { t.addUint(1 << 63) }, "9223372036854775808"},
		{"uint64 max", func(t *total) { t.addUint(math.MaxUint64) }, "18446744073709551615"},
		{"two uint64 max", func(t *total) { t.addUint(math.MaxUint64); t.addUint(math.MaxUint64) }, "36893488147419103230"},
		{"past 64 bits by one", func(t *total) { t.addUint(math.MaxUint64); t.addInt(1) }, "18446744073709551616"},
		{"and back", func(t *total) { t.addUint(math.MaxUint64); t.addInt(1); t.addInt(-2) }, "18446744073709551614"},
		{"negative", func(t *total) { t.addInt(-5); t.addInt(3) }, "-2"},
		{"int64 min twice", func(t *total) { t.addInt(math.MinInt64); t.addInt(math.MinInt64) }, "-18446744073709551616"},
		{"int64 min three times", func(t *total) {
			for range 3 {
				t.addInt(math.MinInt64)
			}
		}, "-27670116110564327424"},
		{"many uint64 max", func(t *total) {
			for range 1000 {
				t.addUint(math.MaxUint64)
			}
		}, "18446744073709551615000"},
		{"a float makes it a float", func(t *total) { t.addUint(3); t.addFloat(0.5) }, "3.5"},
		{"totals of totals", func(t *total) {
			var a, b total
			a.addUint(math.MaxUint64)
			b.addUint(math.MaxUint64)
			b.addInt(-1)
			t.addTotal(&a)
			t.addTotal(&b)
		}, "36893488147419103229"},
	}
	for _, tt := range tests {
		var tot total
		tt.add(&tot)
		if got := string(tot.appendText(nil)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
		want, _ := strconv.ParseFloat(tt.want, 64)
		if v := tot.value(); v != want {
			t.Errorf("%s: value %v, want %v", tt.name, v, want)
		}
		if tot.isZero() {
			t.Errorf("%s: zero", tt.name)
		}
	}
	if got := testing.AllocsPerRun(100, func() {
		var tot total
		tot.addUint(math.MaxUint64)
		tot.addInt(-3)
		var buf [64]byte
		tot.appendText(buf[:0])
	}); got != 0 {
		t.Errorf("%v allocations per sum", got)
	}
}

// TestAddDeltas: the change of one file's field between two reads.
func TestAddDeltas(t *testing.T) {
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
	}
	for _, tt := range tests {
		var tot total
		add(&tot, tt.prev, tt.cur, tt.absolute)
		if got := string(tot.appendText(nil)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
