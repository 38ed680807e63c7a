package pollstats

import (
	"math"
	"testing"
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
		{0.0000123, "0.000"}, {1000, "1.0k"}, {1234, "1.2k"}, {-45678, "-46k"},
		{999499, "999k"}, {999500, "1.0M"}, {123456789012, "123G"}, {-5e17, "-500P"},
		{2e21, "2e+21"},
	} {
		got := string(appendCompact(nil, tt.v))
		if got != tt.want {
			t.Errorf("appendCompact(%v) = %q, want %q", tt.v, got, tt.want)
		}
		if len(got) > compactWidth && tt.v < 1e21 {
			t.Errorf("appendCompact(%v) = %q is longer than %d", tt.v, got, compactWidth)
		}
	}
}

func TestTotalStaysExact(t *testing.T) {
	var tot total
	tot.addUint(math.MaxInt64)
	tot.addUint(10) // past int64
	if got := string(tot.appendText(nil)); got != "9223372036854775808" {
		t.Errorf("total past int64 = %s", got)
	}
	var u total
	u.addUint(1 << 63)
	if got := string(u.appendText(nil)); got != "9223372036854775808" {
		t.Errorf("a uint64 past int64 = %s", got)
	}
	var neg total
	neg.addInt(-5)
	neg.addInt(3)
	if got := string(neg.appendText(nil)); got != "-2" || neg.isZero() {
		t.Errorf("-5 + 3 = %s", got)
	}
}
