package aggregate

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestNumberFloatRoundsOnce: a sum past 64 bits converts to the float64
// nearest to it, as big.Float (and Python's float of an int) rounds it;
// hi·2^64 + lo in two float operations rounded twice.
func TestNumberFloatRoundsOnce(t *testing.T) {
	check := func(hi int64, lo uint64) {
		t.Helper()
		n := Number{hi: hi, lo: lo}
		exact := new(big.Int).Lsh(big.NewInt(hi), 64)
		exact.Add(exact, new(big.Int).SetUint64(lo))
		want, _ := new(big.Float).SetInt(exact).Float64()
		if got := n.Float(); got != want {
			t.Errorf("%d·2^64 + %d = %v, want %v", hi, lo, got, want)
		}
	}
	// Two roundings get this one wrong: 2^64 + 2^63 + 2^11 + 1 is just
	// above the midpoint of two float64s 2^12 apart; float64(lo) drops
	// the +1, and the sum then ties to even, down.
	check(1, 1<<63+1<<11+1)
	check(1, 1<<63+1<<11)
	check(1, math.MaxUint64)
	check(-2, 1)
	check(-1, 1<<62) // a magnitude below 2^64
	check(math.MaxInt64, math.MaxUint64)
	check(math.MinInt64, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		hi := int64(rng.Uint64()) >> rng.IntN(64)
		lo := rng.Uint64()
		if rng.IntN(2) == 0 { // near a tie
			lo = lo&^(1<<12-1) | 1<<11 | uint64(rng.IntN(2))
		}
		check(hi, lo)
	}
}
